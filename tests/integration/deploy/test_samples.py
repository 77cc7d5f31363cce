"""The hand-written sample config files of each role
(etc/migrator/samples/) parse with migrator's options and name no
unknown option."""

import glob
import os

import fixtures
import testtools

from tests.integration.deploy import config_check

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
SAMPLES = os.path.join(REPO, 'etc', 'migrator', 'samples')
ROLES = ('api', 'conductor', 'volume', 'compute')


class SamplesTest(testtools.TestCase):

    def test_a_sample_per_role(self):
        self.assertEqual(sorted('%s.conf' % r for r in ROLES), sorted(
            os.path.basename(p) for p in glob.glob(SAMPLES + '/*.conf')))

    def test_samples_name_known_options_only(self):
        for role in ROLES:
            path = os.path.join(SAMPLES, '%s.conf' % role)
            self.assertEqual([], config_check.problems(path), path)

    def test_the_check_finds_mistakes(self):
        path = self.useFixture(fixtures.TempDir()).join('x')
        with open(path, 'w') as f:
            f.write('[DEFAULT]\nhots = a\n[api]\nport = eighty\n'
                    '[volume]\nenabled_backends = b1\n[b1]\n'
                    'backend_type = tape\nfile_pth = /x\n')
        self.assertEqual(
            ['unknown option [DEFAULT] hots',
             'bad value of [api] port: ',
             'bad value of [b1] backend_type: ',
             'unknown option [b1] file_pth'],
            [p.split(': ')[0] + (': ' if 'bad' in p else '')
             for p in config_check.problems(path)])
