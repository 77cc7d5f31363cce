"""The shipped sample configuration and policy match the code."""

import os
import subprocess
import sys

import fixtures

from tests import base

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


class TestSamples(base.TestCase):

    def test_samples_are_up_to_date(self):
        out = self.useFixture(fixtures.TempDir()).path
        subprocess.run([sys.executable, 'tools/gen_samples.py', out],
                       cwd=TOP, check=True, capture_output=True)
        for name in ('migrator.conf.sample', 'policy.yaml.sample'):
            with open(os.path.join(out, name)) as f:
                fresh = f.read()
            with open(os.path.join(TOP, 'etc', 'migrator', name)) as f:
                shipped = f.read()
            self.assertEqual(fresh, shipped,
                             '%s is stale: run tox -e genconfig' % name)
        with open(os.path.join(TOP, 'etc', 'migrator',
                               'migrator.conf.sample')) as f:
            sample = f.read()
        for section in ('[volume]', '[conductor]', '[api]', '[backend_name]',
                        'migration_progress_report_interval',
                        'volume_copy_bps_limit'):
            self.assertIn(section, sample)
