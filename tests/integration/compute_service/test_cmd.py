"""The migrator-compute command, run as a real process."""

import os
import signal
import subprocess
import sys
import time

from tests import base
from tests.unit.volume import test_cmd as volume_cmd


class ComputeCmdTestCase(base.TestCase):

    def test_imports_no_api_stack_nor_eventlet(self):
        code = ('import sys, migrator_compute.cmd; '
                'print(sorted({m.split(".")[0] for m in sys.modules} & '
                '{"pecan", "sqlalchemy", "eventlet"}))')
        out = subprocess.run([sys.executable, '-c', code], check=True,
                             capture_output=True, text=True)
        self.assertEqual('[]', out.stdout.strip())

    def test_serves_and_stops_on_sigterm(self):
        config = os.path.join(self.state_path, 'migrator.conf')
        with open(config, 'w') as f:
            f.write('[DEFAULT]\nstate_path = %s\ntransport_url = fake:/\n'
                    'host = h1\n[compute]\ndriver = libvirt-offline\n'
                    % self.state_path)
        proc = subprocess.Popen(
            [sys.executable, '-m', 'migrator_compute.cmd', '--config-file',
             config], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        self.addCleanup(proc.stdout.close)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if 'serving on topic migrator-compute as h1' in line:
                break
        while not volume_cmd._catches_sigterm(proc.pid):
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        lines.extend(proc.stdout)
        self.assertEqual(0, proc.wait(), ''.join(lines))
        self.assertTrue(os.path.isdir(os.path.join(
            self.state_path, 'compute-journal', 'migrations')))
