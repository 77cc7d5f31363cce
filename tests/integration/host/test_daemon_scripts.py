"""tools/start-libvirt.sh, as the README's commands, the fixtures and the
benchmarks run it: the daemons it starts keep no descriptor of the
script or of its caller, and it copes with a libvirtd that is still
shutting down.  These tests hold the host exclusively (they stop
libvirtd)."""

import os
import signal
import subprocess
import tempfile
import time

from migrator_testing import guests
from migrator_testing import hosts
from tests import base
from tests.integration import fixtures_libvirt as fl

SCRIPT_LOCKS = ('/tmp/migrator-install-libvirt.script.lock',
                '/tmp/migrator-start-libvirt.lock')


def _open_files(pid):
    out = set()
    for fd in os.listdir('/proc/%d/fd' % pid):
        try:
            out.add(os.readlink('/proc/%d/fd/%s' % (pid, fd)))
        except OSError:
            pass
    return out


class TestStartLibvirt(base.TestCase):

    def setUp(self):
        super().setUp()
        self.lv = self.useFixture(fl.LibvirtFixture(self.state_path,
                                                    exclusive=True))

    def _run_script(self, *args, extra_fd=None):
        """Run the script the way a caller that reads its output does:
        with a pipe as stdout and stderr (and one more descriptor); the
        pipe must reach EOF when the script ends, whatever it started."""
        proc = subprocess.Popen(
            ['bash', hosts.START_LIBVIRT] + list(args),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=() if extra_fd is None else (extra_fd,))
        try:
            out, _ = proc.communicate(timeout=180)
        except subprocess.TimeoutExpired:
            proc.kill()
            self.fail('the script, or a daemon holding its stdout, never '
                      'let go of the pipe')
        self.assertEqual(0, proc.returncode, out)
        return out.decode()

    def _assert_daemons_clean(self, marker):
        for name in ('virtlogd', 'libvirtd'):
            pids = hosts.pids_of(name)
            self.assertEqual(1, len(pids), '%s: %s' % (name, pids))
            files = _open_files(pids[0])
            self.assertNotIn(marker, files, name)
            for lock in SCRIPT_LOCKS:
                self.assertNotIn(lock, files, name)

    def test_daemons_started_keep_no_descriptor_of_the_caller(self):
        with tempfile.NamedTemporaryFile(dir=self.state_path) as marker:
            for name in ('libvirtd', 'virtlogd'):
                for pid in hosts.pids_of(name):
                    os.kill(pid, signal.SIGKILL)
            # A killed process takes a moment to go (longer on a busy
            # machine): wait for it rather than race it.
            for name in ('libvirtd', 'virtlogd'):
                hosts.wait_gone(name, timeout=30)
            out = self._run_script(extra_fd=marker.fileno())
            self.assertIn('starting libvirtd', out)
            self._assert_daemons_clean(os.path.realpath(marker.name))
        # Running it again starts nothing and says nothing.
        self.assertEqual('', self._run_script())
        self.lv.reconnect()

    def test_waits_for_a_libvirtd_that_is_still_shutting_down(self):
        old = hosts.libvirtd_pid()
        self.assertIsNotNone(old)
        os.kill(old, signal.SIGTERM)
        # At once, while the old one may still be on its way out.
        self._run_script()
        new = hosts.libvirtd_pid()
        self.assertNotEqual(old, new)
        self.assertEqual(0, subprocess.run(
            ['virsh', '-c', guests.URI, 'version'],
            capture_output=True).returncode)
        self.lv.reconnect()

    def test_restart_option_replaces_the_running_libvirtd(self):
        old = hosts.libvirtd_pid()
        started = time.monotonic()
        out = self._run_script('--restart')
        self.assertIn('restarting libvirtd', out)
        self.assertNotEqual(old, hosts.libvirtd_pid())
        self.assertLess(time.monotonic() - started, 180)
        self.lv.reconnect()
