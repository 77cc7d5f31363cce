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


class TestStateMachineDoc(base.TestCase):
    """The architecture page shows the state machine as it is."""

    def setUp(self):
        super().setUp()
        with open(os.path.join(TOP, 'doc', 'source', 'contributor',
                               'architecture.rst')) as f:
            self.page = f.read()

    def test_phase_table_is_the_machine(self):
        from migrator_api.conductor import machine
        shown = '\n'.join('    ' + line
                          for line in machine.table().split('\n'))
        self.assertIn(shown, self.page)

    def test_admission_rules_are_listed_in_order(self):
        from migrator_api.conductor import machine
        listed = '\n'.join('%d. %s' % (i + 1, name) for i, (name, _r) in
                           enumerate(machine.ADMISSION))
        self.assertIn(listed, self.page)
