"""Real libvirtd + QEMU for integration tests.

``LibvirtFixture`` makes sure libvirt is usable (running
tools/install-libvirt.sh once per test process when it is not: tests
install what they need, they never skip), defines OS-less test domains
and loop devices, and destroys and undefines everything in cleanup.

Tests of different stestr workers share one libvirtd.  Each test holds
a shared lock on the host for its duration; a test that restarts
libvirtd takes it exclusively, so it never pulls the daemon from under
another worker's test.

Guest I/O without a guest OS: HMP ``qemu-io -d <device id> "write -P
0xNN off len"`` goes through the disk's own backend, so it follows
overlays and block jobs; contents are read back with ``qemu-img convert
-U -O raw`` of the top image.
"""

import collections
import fcntl
import importlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid as uuid_mod
from xml.etree import ElementTree as ET

import fixtures

from tests import base as test_base

URI = 'qemu:///system'
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
    """Install and start libvirt unless it already answers (once per
    process; serialized between processes)."""
    global _INSTALLED
    with _INSTALL_GUARD:
        if _INSTALLED:
            return
        if not libvirt_usable():
            with open(INSTALL_LOCK, 'w') as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                if not libvirt_usable():
                    subprocess.run([INSTALL_SCRIPT, sys.executable],
                                   check=True, stdout=subprocess.DEVNULL)
            if not libvirt_usable():
                raise RuntimeError('libvirt is still not usable after '
                                   '%s' % INSTALL_SCRIPT)
        _INSTALLED = True


def open_connection(timeout=60):
    import libvirt
    deadline = time.monotonic() + timeout
    while True:
        try:
            return libvirt.open(URI)
        except libvirt.libvirtError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def libvirtd_pid():
    out = subprocess.run(['pgrep', '-x', 'libvirtd'], stdout=subprocess.PIPE,
                         text=True).stdout.split()
    return int(out[0]) if out else None


def restart_libvirtd(sig=signal.SIGKILL):
    """Kill libvirtd (SIGKILL by default: a crash) and start it again;
    returns once it answers.  Running domains survive."""
    pid = libvirtd_pid()
    if pid:
        os.kill(pid, sig)
        deadline = time.monotonic() + 30
        while os.path.exists('/proc/%d' % pid):
            if time.monotonic() > deadline:
                raise RuntimeError('libvirtd %d did not exit' % pid)
            time.sleep(0.05)
    subprocess.run(['libvirtd', '-d'], check=True)
    deadline = time.monotonic() + 60
    while subprocess.run(['virsh', '-c', URI, 'version'],
                         stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL).returncode:
        if time.monotonic() > deadline:
            raise RuntimeError('libvirtd did not come back')
        time.sleep(0.1)


def domain_xml(name, uuid, boot_disk=None):
    """An OS-less domain with a virtio-scsi controller; ``boot_disk``: a
    raw image on virtio vda to boot from (none: it sits in the
    firmware)."""
    kind = 'kvm' if os.path.exists('/dev/kvm') else 'qemu'
    disk = '' if boot_disk is None else """
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='%s'/>
      <target dev='vda' bus='virtio'/>
    </disk>""" % boot_disk
    return """<domain type='%s'>
  <name>%s</name>
  <uuid>%s</uuid>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>%s
    <controller type='scsi' index='0' model='virtio-scsi'/>
    <memballoon model='none'/>
  </devices>
</domain>""" % (kind, name, uuid, disk)


# -- guest I/O ------------------------------------------------------------

def hmp(dom, command):
    import libvirt_qemu
    out = libvirt_qemu.qemuMonitorCommand(
        dom, command, libvirt_qemu.VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP)
    if out.strip():
        raise RuntimeError('HMP %r: %s' % (command, out.strip()))
    return out


def device_id(dom, target):
    """The QEMU device id (libvirt alias) of the disk at ``target``."""
    root = ET.fromstring(dom.XMLDesc(0))
    for disk in root.findall('./devices/disk'):
        if disk.find('target').get('dev') == target:
            return disk.find('alias').get('name')
    raise LookupError('no disk %s' % target)


def guest_write(dom, target, offset, length, pattern, dev=None):
    hmp(dom, 'qemu-io -d %s "write -P 0x%02x %d %d"'
        % (dev or device_id(dom, target), pattern, offset, length))


def guest_flush(dom, target, dev=None):
    hmp(dom, 'qemu-io -d %s "flush"' % (dev or device_id(dom, target)))


def read_image(path, fmt=None):
    """Guest-visible contents of an image (chain) as raw bytes."""
    out = '%s.readback.%s' % (os.path.join(
        os.environ.get('TMPDIR', '/tmp'), os.path.basename(path)),
        uuid_mod.uuid4().hex[:8])
    cmd = ['qemu-img', 'convert', '-U', '-O', 'raw']
    if fmt:
        cmd += ['-f', fmt]
    subprocess.run(cmd + [path, out], check=True, stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE)
    try:
        with open(out, 'rb') as f:
            return f.read()
    finally:
        os.unlink(out)


def qemu_open_paths(domain_name):
    """Real paths of the files the domain's QEMU process holds open."""
    with open('/run/libvirt/qemu/%s.pid' % domain_name) as f:
        pid = int(f.read().strip())
    out = set()
    for fd in os.listdir('/proc/%d/fd' % pid):
        try:
            out.add(os.path.realpath(os.readlink('/proc/%d/fd/%s'
                                                 % (pid, fd))))
        except OSError:
            pass
    return out


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


class GuestWriter(threading.Thread):
    """Writes known patterns into a running guest's disk in a loop and
    keeps the expected image (``model``) up to date with every write."""

    def __init__(self, name, target, model, seed=0, max_len=64 * 1024):
        super().__init__(daemon=True, name='writer-%s' % target)
        self.name_, self.target, self.model = name, target, model
        self.rng = random.Random(seed)
        self.max_len = max_len
        self.count = 0
        self.error = None
        self.writes = []
        #: optional callable naming the current phase of the flow under
        #: test; ``phases`` counts the writes made in each.
        self.phase_fn = None
        self.phases = collections.Counter()
        self._halt = threading.Event()
        self._cond = threading.Condition()

    def write_one(self, dom, dev):
        size = len(self.model)
        length = self.rng.randrange(1, self.max_len // 512 + 1) * 512
        offset = self.rng.randrange(0, (size - length) // 512 + 1) * 512
        pattern = self.rng.randrange(1, 256)
        phase = self.phase_fn() if self.phase_fn else None
        guest_write(dom, self.target, offset, length, pattern, dev=dev)
        self.model[offset:offset + length] = bytes([pattern]) * length
        self.writes.append((offset, length, pattern))
        self.phases[phase] += 1
        with self._cond:
            self.count += 1
            self._cond.notify_all()

    def run(self):
        conn = open_connection()
        try:
            dom = conn.lookupByName(self.name_)
            while not self._halt.is_set():
                self.write_one(dom, device_id(dom, self.target))
        except Exception as e:
            self.error = e
            with self._cond:
                self._cond.notify_all()
        finally:
            conn.close()

    def wait_for(self, n=3, timeout=60):
        """Wait until ``n`` more writes went through."""
        with self._cond:
            goal = self.count + n
            deadline = time.monotonic() + timeout
            while self.count < goal and self.error is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError('writer stalled at %d writes'
                                         % self.count)
                self._cond.wait(left)
        if self.error is not None:
            raise self.error

    def stop(self):
        self._halt.set()
        self.join(60)
        if self.error is not None:
            raise self.error


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
        xml = domain_xml(name, uuid)
        self.domains.append(uuid)
        if persistent:
            dom = self.conn.defineXML(xml)
            if start:
                dom.create()
        else:
            self.conn.createXML(xml, 0)
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
        dev = subprocess.run(['losetup', '-f', '--show', path], check=True,
                             stdout=subprocess.PIPE,
                             text=True).stdout.strip()
        self.loops.append((dev, path))
        return Volume('block', dev, path, size)

    def _cleanup(self):
        import libvirt
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
            test_base.detach_loop(dev, backing)
