"""migrator-all, the embedded default, as a newcomer runs it: a real
process on a real port, driven by the real CLI."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

from tests import base

MiB = 1024 * 1024
BIN = os.path.dirname(sys.executable)


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class TestAllInOne(base.TestCase):

    def setUp(self):
        super().setUp()
        port = _free_port()
        self.env = dict(os.environ,
                        MIGRATOR_ENDPOINT='http://127.0.0.1:%d' % port)
        conf = os.path.join(self.state_path, 'migrator.conf')
        with open(conf, 'w') as f:
            f.write('[DEFAULT]\nstate_path = %s\nlog_file = %s\n'
                    '[api]\nport = %d\n'
                    % (self.state_path,
                       os.path.join(self.state_path, 'migrator.log'), port))
        self.proc = subprocess.Popen(
            [os.path.join(BIN, 'migrator-all'), '--config-file', conf],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.addCleanup(self._stop)

    def _stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def migrator(self, *args):
        return subprocess.run([os.path.join(BIN, 'migrator')] + list(args),
                              env=self.env, capture_output=True, text=True)

    def json(self, *args):
        out = self.migrator('-f', 'json', *args)
        self.assertEqual(0, out.returncode, out.stderr)
        return json.loads(out.stdout)

    def _wait_up(self):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.fail('migrator-all died: %s' % self.proc.stderr.read())
            out = self.migrator('-f', 'json', 'backend', 'list')
            if out.returncode == 0 and [b['state'] for b in json.loads(
                    out.stdout)] == ['up', 'up']:
                return
            time.sleep(0.2)
        self.fail('migrator-all did not come up')

    def test_embedded_default_migrates_and_stops_cleanly(self):
        self._wait_up()
        vol = self.json('volume', 'create', '--size', '8M', '--backend',
                        'file1', '--wait')
        path = vol['location']['data']['path']
        self.assertTrue(path.startswith(self.state_path), path)
        data = os.urandom(8 * MiB)
        with open(path, 'r+b') as f:
            f.write(data)
        out = self.migrator('migrate', vol['id'], 'file2', '--wait')
        self.assertEqual(0, out.returncode, out.stdout + out.stderr)
        self.assertIn('Migration ID: ', out.stdout)
        after = self.json('volume', 'show', vol['id'])
        with open(after['location']['data']['path'], 'rb') as f:
            self.assertEqual(data, f.read())
        self.assertTrue(os.path.exists(os.path.join(self.state_path,
                                                    'migrator.sqlite')))
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(0, self.proc.wait(60))
