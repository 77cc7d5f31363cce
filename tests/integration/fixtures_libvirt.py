"""Real libvirtd + QEMU for integration tests.

``LibvirtFixture`` makes sure libvirt is usable (running
tools/install-libvirt.sh once per test process when it is not: tests
install what they need, they never skip), defines OS-less test domains
and loop devices, and destroys and undefines everything in cleanup.

Tests of different stestr workers share one libvirtd.  Each test holds
a shared lock on the host for its duration; a test that restarts
libvirtd takes it exclusively, so it never pulls the daemon from under
another worker's test.

The guests, their I/O and libvirtd control come from
``migrator_testing`` (shared with the demo and the benchmarks).
"""

import fcntl
import importlib
import os
import subprocess
import sys
import threading
import uuid as uuid_mod

import fixtures

from migrator_testing import guests
from migrator_testing.guests import device_id  # noqa: F401
from migrator_testing.guests import guest_flush  # noqa: F401
from migrator_testing.guests import guest_write  # noqa: F401
from migrator_testing.guests import GuestWriter  # noqa: F401
from migrator_testing.guests import open_connection
from migrator_testing.guests import qemu_open_paths  # noqa: F401
from migrator_testing.guests import read_image
from migrator_testing.guests import URI
from migrator_testing import hosts
from migrator_testing.hosts import restart_libvirtd  # noqa: F401
REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
INSTALL_SCRIPT = os.path.join(REPO, 'tools', 'install-libvirt.sh')
INSTALL_LOCK = '/tmp/migrator-install-libvirt.lock'
HOST_LOCK = '/tmp/migrator-tests-libvirtd.lock'
MiB = 1024 * 1024

_INSTALLED = False
_INSTALL_GUARD = threading.Lock()


def libvirt_usable():
    try:
        importlib.invalidate_caches()
        import libvirt
        import libvirt_qemu  # noqa: F401
        libvirt.registerErrorHandler(lambda ctx, err: None, None)
        conn = libvirt.open(URI)
        try:
            conn.getVersion()
        finally:
            conn.close()
        return True
    except Exception:
        return False


def ensure_libvirt():
    """Install and start libvirt unless it already answers (installing
    once per process, serialized between processes); start libvirtd
    again when it stopped answering since."""
    global _INSTALLED
    with _INSTALL_GUARD:
        if _INSTALLED:
            if not libvirt_usable():
                # An earlier test left libvirtd down (it failed while
                # the daemon was stopped): start it, or every later test
                # of the run waits for a daemon that never comes.
                hosts.start_libvirt()
            return
        if not libvirt_usable():
            with open(INSTALL_LOCK, 'w') as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                if not libvirt_usable():
                    out = subprocess.run(
                        ['bash', INSTALL_SCRIPT, sys.executable],
                        stdin=subprocess.DEVNULL, capture_output=True,
                        text=True)
                    if out.returncode:
                        raise RuntimeError('%s failed: %s' % (
                            INSTALL_SCRIPT, out.stdout + out.stderr))
            if not libvirt_usable():
                raise RuntimeError('libvirt is still not usable after '
                                   '%s' % INSTALL_SCRIPT)
        _INSTALLED = True


class Volume(object):
    """A raw volume: a file, or a loop device over a file."""

    def __init__(self, kind, path, backing_file, size):
        self.kind, self.path, self.file, self.size = (kind, path,
                                                      backing_file, size)

    @property
    def connection_info(self):
        if self.kind == 'file':
            return {'driver_volume_type': 'file',
                    'data': {'path': self.path}}
        return {'driver_volume_type': 'block',
                'data': {'device_path': self.path}}

    def read(self):
        return read_image(self.path, 'raw')

    def write_all(self, data):
        with open(self.path, 'r+b') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


class LibvirtFixture(fixtures.Fixture):
    """libvirt for one test: domains, volumes, loop devices, cleanup."""

    def __init__(self, tempdir, exclusive=False):
        super().__init__()
        self.tempdir = tempdir
        self.exclusive = exclusive

    def _setUp(self):
        # Lock first: a test of another worker may be restarting libvirtd.
        self._lockf = open(HOST_LOCK, 'a')
        fcntl.flock(self._lockf,
                    fcntl.LOCK_EX if self.exclusive else fcntl.LOCK_SH)
        self.addCleanup(self._lockf.close)
        ensure_libvirt()
        self.domains = []
        self.loops = []
        self.addCleanup(self._cleanup)
        self.conn = open_connection()
        self.prefix = 'migrator-test-%s' % uuid_mod.uuid4().hex[:8]

    def reconnect(self):
        try:
            self.conn.close()
        except Exception:
            pass
        self.conn = open_connection()
        return self.conn

    def domain(self, uuid):
        return self.conn.lookupByUUIDString(uuid)

    def create_domain(self, persistent=True, start=True):
        """A new OS-less domain; returns its UUID (the instance id)."""
        uuid = str(uuid_mod.uuid4())
        name = '%s-%d' % (self.prefix, len(self.domains))
        self.domains.append(uuid)
        guests.create_domain(self.conn, name, uuid, persistent=persistent,
                             start=start)
        return uuid

    def make_volume(self, kind='file', size=16 * MiB, data=None, name=None):
        """A raw volume filled with ``data`` (random by default)."""
        path = os.path.join(self.tempdir, name or 'vol-%s.raw'
                            % uuid_mod.uuid4().hex[:8])
        with open(path, 'wb') as f:
            f.write(os.urandom(size) if data is None else data)
            f.flush()
            os.fsync(f.fileno())
        if kind == 'file':
            return Volume('file', path, path, size)
        dev = hosts.attach_loop(path)
        self.loops.append((dev, path))
        return Volume('block', dev, path, size)

    def _cleanup(self):
        import libvirt
        if self.exclusive and not libvirt_usable():
            # A test that stopped the daemons failed before starting
            # them again: hand the host back with libvirtd answering.
            hosts.start_libvirt()
        try:
            conn = open_connection()
        except Exception:
            conn = None
        for uuid in self.domains:
            if conn is None:
                break
            try:
                dom = conn.lookupByUUIDString(uuid)
            except libvirt.libvirtError:
                continue
            try:
                if dom.isActive():
                    dom.destroy()
            except libvirt.libvirtError:
                pass
            try:
                if dom.isPersistent():
                    dom.undefine()
            except libvirt.libvirtError:
                pass
        if conn is not None:
            conn.close()
        try:
            self.conn.close()
        except Exception:
            pass
        for dev, backing in self.loops:
            hosts.detach_loop(dev, backing)
