"""OS-less QEMU guests driven through libvirt, and their I/O.

A domain needs no operating system to be useful for storage work: it
sits in the firmware while QEMU serves its disks.  Guest I/O goes
through HMP ``qemu-io -d <device id> "write -P 0xNN off len"``, i.e.
the disk's own backend, so it follows overlays and block jobs as a
guest's writes would; contents are read back with ``qemu-img convert
-U -O raw`` of the top image.

KVM is used where it works; where ``/dev/kvm`` is missing, cannot be
opened, or libvirt or QEMU refuse it, guests run on QEMU's TCG
accelerator (``MIGRATOR_DOMAIN_TYPE=qemu`` forces that).
"""

import collections
import logging
import os
import random
import subprocess
import threading
import time
import uuid as uuid_mod
from xml.etree import ElementTree as ET

URI = 'qemu:///system'
MiB = 1024 * 1024
KVM_DEVICE = '/dev/kvm'

LOG = logging.getLogger(__name__)

_kvm_refused = None


def _quiet_libvirt():
    import libvirt
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    return libvirt


def open_connection(timeout=60, uri=None):
    """A connection to libvirtd (``uri``, default the machine's),
    waiting up to ``timeout`` seconds for it to answer (it may be
    restarting)."""
    libvirt = _quiet_libvirt()
    deadline = time.monotonic() + timeout
    while True:
        try:
            return libvirt.open(uri or URI)
        except libvirt.libvirtError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def kvm_problem(conn):
    """Why KVM cannot be used here, or None when it can."""
    forced = os.environ.get('MIGRATOR_DOMAIN_TYPE')
    if forced == 'qemu':
        return 'MIGRATOR_DOMAIN_TYPE=qemu'
    if _kvm_refused:
        return _kvm_refused
    try:
        os.close(os.open(KVM_DEVICE, os.O_RDWR))
    except OSError as e:
        return '%s: %s' % (KVM_DEVICE, e.strerror)
    libvirt = _quiet_libvirt()
    try:
        conn.getDomainCapabilities(None, 'x86_64', 'pc', 'kvm')
    except libvirt.libvirtError as e:
        return 'libvirt: %s' % e
    return None


def domain_type(conn):
    """``kvm`` where KVM works, else ``qemu`` (TCG)."""
    return 'qemu' if kvm_problem(conn) else 'kvm'


def domain_xml(name, uuid, kind='kvm', boot_disk=None):
    """An OS-less domain with a virtio-scsi controller; ``boot_disk``: a
    raw image on virtio vda to boot from (none: it sits in the
    firmware)."""
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


def write_halting_boot_disk(path):
    """A 1 MiB raw boot disk (for ``boot_disk``) whose boot sector halts
    the vCPU for good (``cli; hlt; jmp $-1``): once the firmware has
    booted it, the guest's vCPU burns no CPU."""
    with open(path, 'wb') as f:
        mbr = bytearray(512)
        mbr[0:4] = b'\xfa\xf4\xeb\xfd'
        mbr[510:512] = b'\x55\xaa'
        f.write(mbr)
        f.truncate(MiB)
    return path


def _make(conn, xml, persistent, start):
    if not persistent:
        return conn.createXML(xml, 0)
    dom = conn.defineXML(xml)
    if start:
        try:
            dom.create()
        except Exception:
            dom.undefine()
            raise
    return dom


def create_domain(conn, name, uuid=None, persistent=True, start=True,
                  boot_disk=None):
    """Define (``persistent``) and start (``start``) an OS-less domain.

    A domain that KVM refuses to start is made again with TCG, and KVM is
    not tried again by this process.
    """
    global _kvm_refused
    uuid = uuid or str(uuid_mod.uuid4())
    kind = domain_type(conn)
    try:
        return _make(conn, domain_xml(name, uuid, kind, boot_disk),
                     persistent, start)
    except Exception as e:
        if kind != 'kvm' or not (persistent is False or start) or \
                'kvm' not in str(e).lower():
            raise
        _kvm_refused = 'KVM refused: %s' % str(e).splitlines()[0]
        LOG.warning('%s; guests run on TCG', _kvm_refused)
        return _make(conn, domain_xml(name, uuid, 'qemu', boot_disk),
                     persistent, start)


def qemu_pid(name):
    """The pid of the QEMU process of a running domain."""
    with open('/run/libvirt/qemu/%s.pid' % name) as f:
        return int(f.read().strip())


def qemu_open_paths(name):
    """Real paths of the files the domain's QEMU process holds open."""
    pid = qemu_pid(name)
    out = set()
    for fd in os.listdir('/proc/%d/fd' % pid):
        try:
            out.add(os.path.realpath(os.readlink('/proc/%d/fd/%s'
                                                 % (pid, fd))))
        except OSError:
            pass
    return out


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


class GuestWriter(threading.Thread):
    """Writes known patterns into a running guest's disk in a loop and
    keeps the expected image (``model``) up to date with every write.

    Every write is recorded (``writes``: offset, length, pattern, in
    order) with its round trip (``times``: perf_counter before and after
    the HMP call).  Writes are ``min_len`` to ``max_len`` bytes long
    (``min_len`` defaults to ``grain``) at ``grain``-aligned offsets.
    Without a ``model`` the disk's ``size`` must be given; ``dev``: the
    device id to write to (otherwise looked up before each write);
    ``interval`` 0: as fast as it can, otherwise one write per
    ``interval`` seconds (a light probe); ``uri``: the libvirtd of the
    guest (default the machine's)."""

    def __init__(self, name, target, model=None, seed=0, max_len=64 * 1024,
                 min_len=None, grain=512, size=None, dev=None, interval=0.0,
                 uri=None):
        super().__init__(daemon=True, name='writer-%s' % target)
        self.name_, self.target, self.model = name, target, model
        self.size = len(model) if model is not None else size
        self.rng = random.Random(seed)
        self.grain = grain
        self.min_len = grain if min_len is None else min_len
        self.max_len = max_len
        self.dev = dev
        self.interval = interval
        self.uri = uri
        self.count = 0
        self.error = None
        self.writes = []
        self.times = []
        #: optional callable naming the current phase of the flow under
        #: test; ``phases`` counts the writes made in each.
        self.phase_fn = None
        self.phases = collections.Counter()
        self._halt = threading.Event()
        self._cond = threading.Condition()

    def write_one(self, dom, dev):
        grain = self.grain
        length = self.rng.randrange(self.min_len // grain,
                                    self.max_len // grain + 1) * grain
        offset = self.rng.randrange(
            0, (self.size - length) // grain + 1) * grain
        pattern = self.rng.randrange(1, 256)
        phase = self.phase_fn() if self.phase_fn else None
        t0 = time.perf_counter()
        guest_write(dom, self.target, offset, length, pattern, dev=dev)
        t1 = time.perf_counter()
        if self.model is not None:
            self.model[offset:offset + length] = bytes([pattern]) * length
        self.writes.append((offset, length, pattern))
        self.times.append((t0, t1))
        self.phases[phase] += 1
        with self._cond:
            self.count += 1
            self._cond.notify_all()
        return t1

    def run(self):
        conn = open_connection(uri=self.uri)
        try:
            dom = conn.lookupByName(self.name_)
            due = time.perf_counter()
            while not self._halt.is_set():
                t1 = self.write_one(
                    dom, self.dev or device_id(dom, self.target))
                if self.interval:
                    due = max(due + self.interval, t1)
                    self._halt.wait(max(0.0, due - time.perf_counter()))
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

    def halt(self):
        """Ask the loop to stop, without waiting for it."""
        self._halt.set()

    def stop(self, timeout=60):
        self.halt()
        self.join(timeout)
        if self.error is not None:
            raise self.error

    def latencies(self, lo=None, hi=None):
        """Round trips of the writes that started in [lo, hi)."""
        return [t1 - t0 for t0, t1 in self.times
                if (lo is None or t0 >= lo) and (hi is None or t0 < hi)]

    def written_bytes(self, lo, hi):
        """Bytes of the writes that started in [lo, hi)."""
        return sum(w[1] for w, (t0, _t1) in zip(self.writes, self.times)
                   if lo <= t0 < hi)
