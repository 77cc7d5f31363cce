"""One run of the live benchmark: its libvirt connection (re-opened when
libvirtd was restarted between two units of work), its two domains
(``ours`` on migrator's driver, ``mirror`` for Nova's way) and their
disks, and guest I/O."""

import contextlib
import fcntl
import os
import time
import uuid as uuid_mod

from benchmarks import common
from benchmarks.live import events as events_mod
from benchmarks.live import holds
from migrator_testing import guests
from migrator_testing import hosts

KiB = common.KiB
PREFIX = 'migrator-bench'


def conn_info(path):
    return {'driver_volume_type': 'file', 'data': {'path': path}}


@contextlib.contextmanager
def guest_io():
    """HMP refusals are the benchmark's errors."""
    try:
        yield
    except RuntimeError as e:
        raise common.BenchError(str(e))


class Writer(guests.GuestWriter):
    """The benchmark's guest writer: 4 KiB-aligned writes of ``min_len``
    to ``max_len`` (4 KiB by default) to a known device, whose failures
    are the benchmark's errors."""

    def __init__(self, name, target, dev, size, seed, min_len=4 * KiB,
                 max_len=4 * KiB, interval=0.0):
        super().__init__(name, target, seed=seed, max_len=max_len,
                         min_len=min_len, grain=4 * KiB, size=size,
                         dev=dev, interval=interval)

    def wait_for(self, n, timeout=60):
        try:
            super().wait_for(n, timeout)
        except AssertionError as e:
            raise common.BenchError('guest %s' % e)
        except Exception as e:
            raise common.BenchError('guest writer failed: %s' % e)

    def stop(self):
        try:
            super().stop(timeout=120)
        except Exception as e:
            raise common.BenchError('guest writer failed: %s' % e)
        if self.is_alive():
            raise common.BenchError('guest writer did not stop')


class Session(object):

    def __init__(self, args):
        self.args = args
        self.workdir = None
        self.conf = None
        self.driver = None
        self.conn = None
        self.timer = holds.HoldTimer()
        self.events = events_mod.Events()
        self.domains = {}           # role -> (name, uuid)
        self.writers = []
        self.copy_worker = None
        self.results = {'runs': [], 'errors': []}
        self._lockf = None
        self._lock_depth = 0

    # -- libvirtd may be restarted between two units of work ---------------

    @contextlib.contextmanager
    def unit(self, wait=None, connect=True):
        """One unit of work (a migration and its verification, say),
        during which nobody following the project's convention restarts
        libvirtd (hosts.HOST_LOCK).  Between units the connection is
        re-opened if libvirtd was restarted meanwhile (the domains
        survive that)."""
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        self._lock_shared(wait)
        self._lock_depth = 1
        try:
            if connect:
                self._ensure_conn()
            yield
        finally:
            self._lock_depth = 0
            fcntl.flock(self._lockf, fcntl.LOCK_UN)
            time.sleep(0.05)        # lets a waiting restart have its turn

    def _lock_shared(self, wait):
        if self._lockf is None:
            self._lockf = open(hosts.HOST_LOCK, 'a')
        deadline = None if wait is None else time.monotonic() + wait
        while True:
            try:
                fcntl.flock(self._lockf, fcntl.LOCK_SH |
                            (fcntl.LOCK_NB if deadline else 0))
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    common.log('warning: going on without the libvirtd '
                               'lock')
                    return
                time.sleep(0.2)

    def release_lock_file(self):
        if self._lockf is not None:
            self._lockf.close()

    def _ensure_conn(self):
        import libvirt
        try:
            alive = self.conn is not None and self.conn.isAlive()
        except libvirt.libvirtError:
            alive = False
        if alive:
            return
        if self.conn is not None:
            common.log('libvirtd was restarted: reconnecting')
            try:
                self.conn.close()
            except libvirt.libvirtError:
                pass
        self.conn = guests.open_connection(timeout=120)
        self.events.register(self.conn)

    # -- the domains and their disks ---------------------------------------

    def dom(self, role):
        return self.conn.lookupByUUIDString(self.domains[role][1])

    def live_chain(self, role, target):
        from migrator_compute.drivers.libvirt import guest
        root = guest.parse(self.dom(role).XMLDesc(0))
        return [os.path.realpath(p) for p in guest.chain_paths(root, target)]

    def attach(self, role, chain):
        if role == 'ours':
            chain.aid = str(uuid_mod.uuid4())
            chain.target = self.driver.attach_volume(
                self.domains[role][1], chain.aid,
                conn_info(chain.path))['target']
            return
        import libvirt
        from migrator_compute.drivers.libvirt import guest
        dom = self.dom(role)
        chain.target = guest.next_scsi_target(guest.parse(dom.XMLDesc(0)))
        dom.attachDeviceFlags(
            guest.new_disk_xml(chain.target, 'file', chain.path),
            libvirt.VIR_DOMAIN_AFFECT_LIVE | libvirt.VIR_DOMAIN_AFFECT_CONFIG)

    def detach(self, role, chain):
        if role == 'ours':
            self.driver.detach_volume(self.domains[role][1], chain.aid)
            return
        import libvirt
        from migrator_compute.drivers.libvirt import guest
        dom = self.dom(role)
        dom.detachDeviceFlags(
            guest.new_disk_xml(chain.target, 'file', chain.path),
            libvirt.VIR_DOMAIN_AFFECT_LIVE | libvirt.VIR_DOMAIN_AFFECT_CONFIG)
        deadline = time.monotonic() + 30
        while chain.target in guest.scsi_targets(guest.parse(
                dom.XMLDesc(0))):
            if time.monotonic() > deadline:
                raise common.BenchError('%s did not go away' % chain.target)
            time.sleep(0.05)

    # -- guest I/O ---------------------------------------------------------

    def writer(self, role, chain, seed, **kw):
        """A guest writer on the chain's disk (not started)."""
        name = self.domains[role][0]
        w = Writer(name, chain.target,
                   guests.device_id(self.dom(role), chain.target),
                   chain.size, seed, **kw)
        self.writers.append(w)
        return w

    def stop_writer(self, w):
        w.stop()
        self.writers.remove(w)

    def few_writes(self, role, chain, n, rng):
        """A few 64 KiB writes from this thread (recorded in
        ``chain.pending``)."""
        dom = self.dom(role)
        dev = guests.device_id(dom, chain.target)
        with guest_io():
            for _ in range(n):
                off = rng.randrange(0, chain.size // (64 * KiB)) * 64 * KiB
                pat = rng.randrange(1, 256)
                guests.guest_write(dom, chain.target, off, 64 * KiB, pat,
                                   dev=dev)
                chain.pending.append((off, 64 * KiB, pat))

    def flush(self, role, chain):
        with guest_io():
            guests.guest_flush(self.dom(role), chain.target)
