"""The documentation builds without a warning."""

import os
import subprocess
import sys

import fixtures

from tests import base

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


class TestDocs(base.TestCase):

    def test_sphinx_builds_cleanly(self):
        out = self.useFixture(fixtures.TempDir()).path
        result = subprocess.run(
            [sys.executable, '-m', 'sphinx', '-q', '-W', '-b', 'html',
             os.path.join(TOP, 'doc', 'source'), out],
            capture_output=True, text=True)
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertTrue(os.path.exists(os.path.join(out, 'index.html')))
