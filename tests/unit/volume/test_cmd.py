"""The migrator-volume command, run as a real process."""

import os
import signal
import subprocess
import sys
import time

from tests.unit.volume import base


class VolumeCmdTestCase(base.VolumeTestCase):

    def test_imports_no_api_stack_nor_eventlet(self):
        code = ('import sys, migrator_volume.cmd; '
                'print(sorted({m.split(".")[0] for m in sys.modules} & '
                '{"pecan", "sqlalchemy", "eventlet"}))')
        out = subprocess.run([sys.executable, '-c', code], check=True,
                             capture_output=True, text=True)
        self.assertEqual('[]', out.stdout.strip())

    def test_serves_and_stops_on_sigterm(self):
        config = os.path.join(self.tmp, 'migrator.conf')
        with open(config, 'w') as f:
            f.write('[DEFAULT]\nstate_path = %s\ntransport_url = fake:/\n'
                    'host = h1\n[volume]\nenabled_backends = f1\n'
                    '[f1]\nbackend_type = file\n' % self.tmp)
        proc = subprocess.Popen(
            [sys.executable, '-m', 'migrator_volume.cmd', '--config-file',
             config], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        self.addCleanup(proc.stdout.close)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if 'serving on topic migrator-volume as h1' in line:
                break
        while not _catches_sigterm(proc.pid):
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        lines.extend(proc.stdout)
        self.assertEqual(0, proc.wait(), ''.join(lines))
        self.assertTrue(os.path.isdir(os.path.join(self.tmp, 'backends',
                                                   'f1')))


def _catches_sigterm(pid):
    """Whether the process has its SIGTERM handler installed yet."""
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('SigCgt:'):
                return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM
                                                              - 1)))
    return False
