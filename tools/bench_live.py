#!/usr/bin/env python3
"""Benchmark of the live path of a volume migration (running guest).

migrator's path: ``migration_start`` (freeze the disk onto a local qcow2
overlay), the copy of the frozen source by the volume worker's own
copier (outside QEMU), ``migration_complete`` (shallow copy of the
overlay onto an overlay backed by the destination, pivot) and the
asynchronous fold-in (active commit into the destination, pivot).

Baseline: what Nova's ``swap_volume`` does, a full QEMU mirror of the
disk onto the pre-created destination (``blockCopy`` with REUSE_EXT,
wait READY, pivot, rewrite the persistent definition).

Everything runs against the real libvirtd and QEMU, on OS-less domains
whose vCPU halts (a one-sector boot disk: ``cli; hlt``), with file-backed
raw volumes full of pseudo-random data.  The guest writes through HMP
``qemu-io`` on its virtio-scsi disk.  Every migration is verified byte
for byte (the destination holds the source's content plus every guest
write) before any of its figures is used.

Figures: how long the libvirt calls that hold guest I/O take (freeze,
copy pivot, fold-in pivot), end-to-end time against the mirror, QEMU's
own CPU time (non-vCPU threads), guest write latency, and the fold-in
under continuous guest writes; PASS/FAIL per target; all of it as JSON
with ``--json``.  See doc/source/admin/live-benchmark.rst.

Exit status: 0 every target met, 1 a target missed, 2 the benchmark
could not run or a migration lost or corrupted data.
"""

import argparse
import collections
import contextlib
import datetime
import fcntl
import hashlib
import json
import multiprocessing
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid as uuid_mod

from migrator_testing import guests

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
#: Granularity of the content digests kept for the big volumes.
CHUNK = 16 * MiB
URI = 'qemu:///system'
VCPU_RE = re.compile(r'^CPU \d+/')
HOLD_LIMIT = 0.050
CPU_RATIO_LIMIT = 0.2
PREFIX = 'migrator-bench'
#: The integration tests hold this lock shared while they use libvirtd
#: and exclusively while they restart it (tests/integration/
#: fixtures_libvirt.py): every measured unit of work holds it shared.
HOST_LOCK = '/tmp/migrator-tests-libvirtd.lock'


class BenchError(Exception):
    """The benchmark cannot go on (exit status 2)."""


class DataMismatch(BenchError):
    """A migration lost or corrupted data."""


# -- small helpers ---------------------------------------------------------

def parse_size(text):
    m = re.match(r'^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$', text, re.I)
    if not m:
        raise argparse.ArgumentTypeError('not a size: %r' % text)
    unit = {'': 1, 'K': KiB, 'M': MiB, 'G': GiB, 'T': 1024 * GiB}[
        m.group(2).upper()]
    size = int(float(m.group(1)) * unit)
    if size <= 0 or size % MiB:
        raise argparse.ArgumentTypeError('%r: sizes must be whole MiB'
                                         % text)
    return size


def fmt_size(size):
    if size % GiB == 0:
        return '%dG' % (size // GiB)
    return '%dM' % (size // MiB)


def quantile(values, q):
    """Linear interpolation between closest ranks (numpy's default)."""
    s = sorted(values)
    if not s:
        return None
    k = (len(s) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def summary(values):
    values = list(values)
    if not values:
        return {'n': 0}
    return {'n': len(values), 'median': quantile(values, 0.5),
            'p90': quantile(values, 0.9), 'p99': quantile(values, 0.99),
            'min': min(values), 'max': max(values),
            'mean': sum(values) / len(values)}


def ms(v):
    return '%8.1f' % (v * 1000) if v is not None else '       -'


def secs(v):
    return '%7.2f' % v if v is not None else '      -'


def log(msg, *args):
    stamp = datetime.datetime.now().strftime('%H:%M:%S')
    print('[%s] %s' % (stamp, msg % args if args else msg), file=sys.stderr,
          flush=True)


def evict(path):
    """Drop the file's pages from the page cache (this file only)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def fresh_volume(path, size):
    """What the file backend creates: a sparse file reading as zeroes."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.ftruncate(fd, size)
        os.fsync(fd)
    finally:
        os.close(fd)


def _keystream():
    """A fast pseudo-random byte source (AES-CTR when available)."""
    try:
        from cryptography.hazmat.primitives.ciphers import algorithms
        from cryptography.hazmat.primitives.ciphers import Cipher
        from cryptography.hazmat.primitives.ciphers import modes
    except ImportError:
        return os.urandom
    enc = Cipher(algorithms.AES(os.urandom(16)),
                 modes.CTR(os.urandom(16))).encryptor()
    return lambda n: enc.update(bytes(n))


def random_volume(path, size):
    """A raw file full of random data; returns the digests of its
    CHUNK-sized pieces."""
    stream = _keystream()
    digests = []
    with open(path, 'wb', buffering=0) as f:
        done = 0
        while done < size:
            data = stream(min(CHUNK, size - done))
            f.write(data)
            digests.append(hashlib.sha1(data).digest())
            done += len(data)
        os.fsync(f.fileno())
    evict(path)
    return digests


def conn_info(path):
    return {'driver_volume_type': 'file', 'data': {'path': path}}


# -- what holds guest I/O: timing around the driver's libvirt calls --------

class HoldTimer(object):
    """Wraps ``virDomain.snapshotCreateXML`` and ``virDomain.blockJobAbort``
    (with PIVOT) in this process, so that every call the driver (or the
    mirror baseline) makes is timed.  The driver is not changed."""

    def __init__(self):
        self.calls = []
        self.tls = threading.local()
        self._lock = threading.Lock()
        self._orig = None

    def install(self):
        import libvirt
        cls = libvirt.virDomain
        snap, abort = cls.snapshotCreateXML, cls.blockJobAbort
        self._orig = (snap, abort)
        timer = self
        pivot_flag = libvirt.VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT
        kinds = {libvirt.VIR_DOMAIN_BLOCK_JOB_TYPE_COPY: 'copy_pivot',
                 libvirt.VIR_DOMAIN_BLOCK_JOB_TYPE_ACTIVE_COMMIT:
                 'fold_pivot'}

        def snapshotCreateXML(dom, xmlDesc, flags=0):
            return timer._timed('freeze', snap, dom, xmlDesc, flags)

        def blockJobAbort(dom, disk, flags=0):
            if not flags & pivot_flag:
                return abort(dom, disk, flags)
            label = getattr(timer.tls, 'label', None)
            if label is None:
                try:
                    info = dom.blockJobInfo(disk, 0) or {}
                except libvirt.libvirtError:
                    info = {}
                label = kinds.get(info.get('type'), 'other_pivot')
            return timer._timed(label, abort, dom, disk, flags)

        cls.snapshotCreateXML = snapshotCreateXML
        cls.blockJobAbort = blockJobAbort

    def uninstall(self):
        if self._orig:
            import libvirt
            libvirt.virDomain.snapshotCreateXML = self._orig[0]
            libvirt.virDomain.blockJobAbort = self._orig[1]
            self._orig = None

    def _timed(self, label, fn, *args):
        wall = time.time()
        t0 = time.perf_counter()
        ok = False
        try:
            result = fn(*args)
            ok = True
            return result
        finally:
            t1 = time.perf_counter()
            with self._lock:
                self.calls.append({'label': label, 't0': t0, 't1': t1,
                                   'wall0': wall, 'wall1': wall + t1 - t0,
                                   'seconds': t1 - t0, 'ok': ok})

    def mark(self):
        with self._lock:
            return len(self.calls)

    def since(self, mark):
        with self._lock:
            return list(self.calls[mark:])

    @contextlib.contextmanager
    def label(self, name):
        old = getattr(self.tls, 'label', None)
        self.tls.label = name
        try:
            yield
        finally:
            self.tls.label = old


# -- QEMU's own CPU time ---------------------------------------------------

CLK_TCK = os.sysconf('SC_CLK_TCK')


def qemu_pid(name):
    with open('/run/libvirt/qemu/%s.pid' % name) as f:
        return int(f.read().strip())


def _stat_ticks(path):
    with open(path) as f:
        rest = f.read().rsplit(')', 1)[1].split()
    return int(rest[11]) + int(rest[12])        # utime + stime


def cpu_sample(pid):
    """Per-thread CPU time of the QEMU process (schedstat, ns)."""
    threads = {}
    base = '/proc/%d/task' % pid
    for tid in os.listdir(base):
        try:
            with open('%s/%s/comm' % (base, tid)) as f:
                comm = f.read().strip()
            with open('%s/%s/schedstat' % (base, tid)) as f:
                ns = int(f.read().split()[0])
            ticks = _stat_ticks('%s/%s/stat' % (base, tid))
        except (OSError, ValueError, IndexError):
            continue            # the thread just ended
        threads[tid] = (comm, ns, ticks)
    return {'pid': pid, 'threads': threads,
            'proc_ticks': _stat_ticks('/proc/%d/stat' % pid)}


def cpu_delta(a, b):
    """CPU seconds of the non-vCPU threads between two samples.

    ``seconds`` sums schedstat of the threads alive at the end (a thread
    that ended in between -- an idle thread-pool worker -- counts 0);
    ``ticks_seconds`` is the process total (which keeps ended threads)
    minus the vCPU threads, at clock-tick resolution."""
    if a['pid'] != b['pid']:
        raise BenchError('the QEMU process changed during a measurement')
    total = 0
    by_comm = collections.Counter()
    vcpu_ticks = 0
    for tid, (comm, ns, ticks) in b['threads'].items():
        prev = a['threads'].get(tid)
        if VCPU_RE.match(comm):
            vcpu_ticks += ticks - (prev[2] if prev else 0)
            continue
        d = ns - (prev[1] if prev else 0)
        total += d
        by_comm[comm] += d
    gone = [t for t, v in a['threads'].items()
            if t not in b['threads'] and not VCPU_RE.match(v[0])]
    return {'seconds': total / 1e9,
            'by_thread': {k: v / 1e9 for k, v in sorted(by_comm.items())},
            'threads_ended': len(gone),
            'ticks_seconds': (b['proc_ticks'] - a['proc_ticks'] -
                              vcpu_ticks) / CLK_TCK}


# -- guest I/O through HMP qemu-io ------------------------------------------

def hmp(dom, command):
    import libvirt_qemu
    out = libvirt_qemu.qemuMonitorCommand(
        dom, command, libvirt_qemu.VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP)
    if out.strip():
        raise BenchError('HMP %r: %s' % (command, out.strip()))


def disk_alias(dom, target):
    from migrator_compute.drivers.libvirt import guest
    alias = guest.device_alias(guest.parse(dom.XMLDesc(0)), target)
    if not alias:
        raise BenchError('no disk %s in %s' % (target, dom.name()))
    return alias


def guest_write(dom, dev, offset, length, pattern):
    hmp(dom, 'qemu-io -d %s "write -P 0x%02x %d %d"'
        % (dev, pattern, offset, length))


def guest_flush(dom, target):
    hmp(dom, 'qemu-io -d %s "flush"' % disk_alias(dom, target))


class Writer(threading.Thread):
    """Writes random patterns into the guest's disk in a loop, through
    libvirt (HMP ``qemu-io`` by ``virDomainQemuMonitorCommand``, on its
    own connection), and records every write (for the verification) and
    its round trip (for the latency figures).

    ``interval`` 0: as fast as it can; otherwise one write per
    ``interval`` seconds (a light probe)."""

    def __init__(self, dom_name, dev, size, seed, min_len=4 * KiB,
                 max_len=4 * KiB, interval=0.0):
        super().__init__(daemon=True, name='writer-%s' % dom_name)
        self.dom_name, self.dev, self.size = dom_name, dev, size
        self.rng = random.Random(seed)
        self.min_len, self.max_len = min_len, max_len
        self.interval = interval
        self.writes = []        # (offset, length, pattern), in order
        self.times = []         # (t0, t1) of each write
        self.error = None
        self._halt = threading.Event()
        self._cond = threading.Condition()

    @property
    def count(self):
        return len(self.writes)

    def _connect(self):
        import libvirt
        conn = libvirt.open(URI)
        dom = conn.lookupByName(self.dom_name)
        return (lambda cmd: hmp(dom, cmd)), conn.close

    def run(self):
        close = None
        try:
            send, close = self._connect()
            grain = 4 * KiB
            nxt = time.perf_counter()
            while not self._halt.is_set():
                length = self.rng.randrange(self.min_len // grain,
                                            self.max_len // grain + 1) * grain
                offset = self.rng.randrange(
                    0, (self.size - length) // grain + 1) * grain
                pattern = self.rng.randrange(1, 256)
                t0 = time.perf_counter()
                send('qemu-io -d %s "write -P 0x%02x %d %d"'
                     % (self.dev, pattern, offset, length))
                t1 = time.perf_counter()
                with self._cond:
                    self.writes.append((offset, length, pattern))
                    self.times.append((t0, t1))
                    self._cond.notify_all()
                if self.interval:
                    nxt = max(nxt + self.interval, t1)
                    self._halt.wait(max(0.0, nxt - time.perf_counter()))
        except Exception as e:
            self.error = e
        finally:
            with self._cond:
                self._cond.notify_all()
            if close is not None:
                try:
                    close()
                except Exception:
                    pass

    def wait_for(self, n, timeout=60):
        with self._cond:
            goal = self.count + n
            deadline = time.monotonic() + timeout
            while self.count < goal and self.error is None and \
                    self.is_alive():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BenchError('guest writer stalled at %d writes'
                                     % self.count)
                self._cond.wait(left)
        if self.error is not None:
            raise BenchError('guest writer failed: %s' % self.error)

    def stop(self):
        self._halt.set()
        self.join(120)
        if self.is_alive():
            raise BenchError('guest writer did not stop')
        if self.error is not None:
            raise BenchError('guest writer failed: %s' % self.error)

    def latencies(self, lo=None, hi=None):
        """Round trips of the writes that started in [lo, hi)."""
        return [t1 - t0 for t0, t1 in self.times
                if (lo is None or t0 >= lo) and (hi is None or t0 < hi)]

    def written_bytes(self, lo, hi):
        return sum(w[1] for w, (t0, _t1) in zip(self.writes, self.times)
                   if lo <= t0 < hi)


def apply_writes(buf, base, writes):
    end = base + len(buf)
    for offset, length, pattern in writes:
        s, e = max(offset, base), min(offset + length, end)
        if s < e:
            buf[s - base:e - base] = bytes([pattern]) * (e - s)


def first_difference(a, b):
    for i in range(0, min(len(a), len(b)), 512):
        if a[i:i + 512] != b[i:i + 512]:
            return i
    return min(len(a), len(b))


# -- volumes that move from file to file -----------------------------------

class Chain(object):
    """A volume's content as it moves from file to file: the current
    file and the digests of its CHUNK-sized pieces (known good)."""

    def __init__(self, bench, name, size):
        self.bench, self.name, self.size = bench, name, size
        self.gen = 0
        self.path = self.new_path()
        self.digests = random_volume(self.path, size)
        self.pending = []       # guest writes not yet verified
        self.aid = None         # driver attachment (ours)
        self.target = None

    def new_path(self):
        self.gen += 1
        return os.path.join(self.bench.workdir, '%s-%d.raw'
                            % (self.name, self.gen))

    def verify(self, dst, writes, check_source):
        """``dst`` must hold the chain's content (as of the start of the
        migration, read from the current file where guest writes touched
        it) plus ``writes`` applied in order.  Raises DataMismatch;
        makes ``dst`` the chain's file."""
        writes = self.pending + list(writes)
        buckets = collections.defaultdict(list)
        for w in writes:
            for ci in range(w[0] // CHUNK, (w[0] + w[1] - 1) // CHUNK + 1):
                buckets[ci].append(w)
        digests = []
        with open(dst, 'rb', buffering=0) as d, \
                open(self.path, 'rb', buffering=0) as s:
            os.posix_fadvise(d.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
            for ci in range(len(self.digests)):
                off = ci * CHUNK
                n = min(CHUNK, self.size - off)
                data = os.pread(d.fileno(), n, off)
                if len(data) != n:
                    raise DataMismatch('%s is short at %d' % (dst, off))
                digest = hashlib.sha1(data).digest()
                if ci in buckets:
                    ref = bytearray(os.pread(s.fileno(), n, off))
                    if check_source and \
                            hashlib.sha1(ref).digest() != self.digests[ci]:
                        raise DataMismatch(
                            'the source %s changed after the freeze '
                            '(bytes %d..%d)' % (self.path, off, off + n))
                    apply_writes(ref, off, buckets[ci])
                    if data != ref:
                        raise DataMismatch(
                            '%s differs from the expected content at byte '
                            '%d' % (dst, off + first_difference(data, ref)))
                elif digest != self.digests[ci]:
                    raise DataMismatch(
                        '%s differs from the source in bytes %d..%d'
                        % (dst, off, off + n))
                digests.append(digest)
        old = self.path
        self.path, self.digests, self.pending = dst, digests, []
        os.unlink(old)


# -- the copy, in a process of its own --------------------------------------

def _copy_worker_main(pipe):
    """A process that runs the volume worker's copier on request, as
    the volume worker does in its own process: the copy's threads do not
    compete with the guest writer and the driver for this process's
    GIL."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # the parent decides
    errors = collections.Counter()

    def excepthook(hook_args):
        errors['%s: %s' % (hook_args.exc_type.__name__,
                           hook_args.exc_value)] += 1
    threading.excepthook = excepthook
    from migrator_api import conf as mconf
    from migrator_api.conf import opts as conf_opts
    from migrator_volume import copy as mcopy
    conf = mconf.CONF
    conf([], project='migrator', default_config_files=[])
    conf_opts.set_defaults(conf)
    while True:
        job = pipe.recv()
        if job is None:
            return
        src, dst, size = job
        errors.clear()
        try:
            copier = mcopy.make_copier(src, dst, size, conf,
                                       dst_zeroed=True, label='bench')
            t0 = time.perf_counter()
            copier.run()
            pipe.send({'ok': True, 'seconds': time.perf_counter() - t0,
                       'copier': type(copier).__name__,
                       'thread_errors': dict(errors)})
        except Exception as e:
            pipe.send({'ok': False, 'error': '%s: %s'
                       % (type(e).__name__, e)})


class CopyWorker(object):

    def __init__(self):
        ctx = multiprocessing.get_context('spawn')
        self.pipe, child = ctx.Pipe()
        self.proc = ctx.Process(target=_copy_worker_main, args=(child,),
                                name='bench-copier', daemon=True)
        self.proc.start()
        child.close()

    def copy(self, src, dst, size):
        self.pipe.send((src, dst, size))
        reply = self.pipe.recv()
        if not reply['ok']:
            raise BenchError('the copy failed: %s' % reply['error'])
        return reply

    def stop(self):
        try:
            self.pipe.send(None)
        except OSError:
            pass
        self.proc.join(10)
        if self.proc.is_alive():
            self.proc.terminate()       # our own child, by its handle
            self.proc.join(10)


# -- the benchmark ---------------------------------------------------------

class Bench(object):

    def __init__(self, args):
        self.args = args
        self.workdir = None
        self.driver = None
        self.conn = None
        self.timer = HoldTimer()
        self.domains = {}           # role -> (name, uuid)
        self.writers = []
        self.copy_worker = None
        self.results = {'runs': [], 'errors': []}
        self._events = collections.defaultdict(list)
        self._cond = threading.Condition()
        self._lockf = None
        self._lock_depth = 0
        self._qemu_events = []      # (QEMU's wall time, uuid, status)

    # -- libvirtd may be restarted between two units of work -----------------

    @contextlib.contextmanager
    def unit(self, wait=None, connect=True):
        """One unit of work (a migration and its verification, say),
        during which nobody following the project's convention restarts
        libvirtd.  Between units the connection is re-opened if libvirtd
        was restarted meanwhile (the domains survive that)."""
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        if self._lockf is None:
            self._lockf = open(HOST_LOCK, 'a')
        deadline = None if wait is None else time.monotonic() + wait
        while True:
            try:
                fcntl.flock(self._lockf, fcntl.LOCK_SH |
                            (fcntl.LOCK_NB if deadline else 0))
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    log('warning: going on without the libvirtd lock')
                    break
                time.sleep(0.2)
        self._lock_depth = 1
        try:
            if connect:
                self._ensure_conn()
            yield
        finally:
            self._lock_depth = 0
            fcntl.flock(self._lockf, fcntl.LOCK_UN)
            time.sleep(0.05)        # lets a waiting restart have its turn

    def _ensure_conn(self):
        import libvirt
        try:
            alive = self.conn is not None and self.conn.isAlive()
        except libvirt.libvirtError:
            alive = False
        if alive:
            return
        if self.conn is not None:
            log('libvirtd was restarted: reconnecting')
            try:
                self.conn.close()
            except libvirt.libvirtError:
                pass
        deadline = time.monotonic() + 120
        while True:
            try:
                self.conn = libvirt.open(URI)
                break
            except libvirt.libvirtError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        self.conn.domainEventRegisterAny(
            None, libvirt.VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2, self._on_job, None)
        import libvirt_qemu
        libvirt_qemu.qemuMonitorEventRegister(
            self.conn, None, 'JOB_STATUS_CHANGE', self._on_qemu_event, None)

    # -- setup / teardown ---------------------------------------------------

    def setup(self):
        a = self.args
        if os.geteuid() != 0:
            raise BenchError('run as root (QEMU and /dev/kvm need it)')
        os.makedirs(a.workdir, exist_ok=True)
        need = 4 * max(a.sizes) + 2 * a.small_size + GiB
        free = shutil.disk_usage(a.workdir).free
        if free < need:
            raise BenchError('%s has %.1f GiB free, the run needs %.1f GiB'
                             % (a.workdir, free / GiB, need / GiB))
        self.workdir = os.path.join(a.workdir, '%s-%d-%s' % (
            PREFIX, os.getpid(), uuid_mod.uuid4().hex[:6]))
        os.makedirs(self.workdir)
        os.chmod(self.workdir, 0o755)
        try:
            import libvirt  # noqa: F401
            import libvirt_qemu  # noqa: F401
        except ImportError:
            raise BenchError('libvirt-python is missing: run '
                             'tools/install-libvirt.sh %s' % sys.executable)

        from migrator_api import conf as mconf
        from migrator_api.conf import opts as conf_opts
        conf = mconf.CONF
        conf([], project='migrator', default_config_files=[])
        conf_opts.set_defaults(conf)
        conf.set_override('state_path', os.path.join(self.workdir, 'state'))
        conf.set_override('driver', 'libvirt', group='compute')
        self.conf = conf
        os.makedirs(os.path.join(self.workdir, 'state'))
        self.copy_worker = CopyWorker()

        from migrator_compute.drivers import base as drv_base
        self.timer.install()
        try:
            self.driver = drv_base.load_driver(conf)
            with self.unit():
                # The driver's connection (it registers libvirt's event
                # loop), and ours, for the mirror and the domains.
                self.driver.host.get()
        except Exception as e:
            raise BenchError('libvirt is not usable (%s): run '
                             'tools/install-libvirt.sh %s'
                             % (e, sys.executable))
        with self.unit():
            for role in ('ours', 'mirror'):
                self.domains[role] = self._create_domain(role)
            for name, _uuid in self.domains.values():
                self._wait_vcpu_idle(name)
            self.results['environment'] = self._environment()

    def _create_domain(self, role):
        uuid = str(uuid_mod.uuid4())
        name = '%s-%s-%s' % (PREFIX, role, uuid[:8])
        boot = os.path.join(self.workdir, 'boot-%s.raw' % role)
        with open(boot, 'wb') as f:
            # A boot sector that halts the vCPU for good: cli; hlt; jmp $-1.
            mbr = bytearray(512)
            mbr[0:4] = b'\xfa\xf4\xeb\xfd'
            mbr[510:512] = b'\x55\xaa'
            f.write(mbr)
            f.truncate(MiB)
        self.domains[role] = (name, uuid)       # cleaned up even if...
        guests.create_domain(self.conn, name, uuid, boot_disk=boot)
        return name, uuid

    @staticmethod
    def _wait_vcpu_idle(name, timeout=30):
        """SeaBIOS spins for a few seconds before it boots the sector
        that halts the vCPU: wait for that."""
        pid = qemu_pid(name)

        def vcpu_ns():
            return sum(ns for c, ns, _t in cpu_sample(pid)['threads'].values()
                       if VCPU_RE.match(c))
        deadline = time.monotonic() + timeout
        last = vcpu_ns()
        while time.monotonic() < deadline:
            time.sleep(0.25)
            now = vcpu_ns()
            if now - last < 5e6:
                return
            last = now
        log('warning: the vCPU of %s is still busy after %ss', name, timeout)

    def _environment(self):
        import libvirt
        env = {'host': platform.node(), 'kernel': platform.release(),
               'cpus': os.cpu_count(), 'python': platform.python_version(),
               'libvirt': self.conn.getLibVersion(),
               'qemu': self.conn.getVersion(),
               'libvirt_python': libvirt.getVersion(),
               'domain_type': guests.domain_type(self.conn),
               'workdir': self.workdir,
               'loadavg_start': os.getloadavg()}
        for role, (name, _u) in self.domains.items():
            pid = qemu_pid(name)
            a = cpu_sample(pid)
            time.sleep(0.5)
            b = cpu_sample(pid)
            vcpu = sum(ns - a['threads'].get(t, (0, 0))[1]
                       for t, (c, ns, _k) in b['threads'].items()
                       if VCPU_RE.match(c))
            env['%s_vcpu_busy_fraction' % role] = vcpu / 1e9 / 0.5
        return env

    def cleanup(self):
        for w in self.writers:
            w._halt.set()
        if self.copy_worker is not None:
            self.copy_worker.stop()
        try:
            with self.unit(wait=120, connect=False):
                self._cleanup()
        except Exception as e:
            log('cleanup: %s', e)
        if self._lockf is not None:
            self._lockf.close()
        if self.workdir and not self.args.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _cleanup(self):
        import libvirt
        try:
            conn = libvirt.open(URI)
        except Exception:
            conn = None
        for name, _uuid in self.domains.values():
            if conn is None:
                break
            try:
                dom = conn.lookupByName(name)
            except libvirt.libvirtError:
                continue
            for step in (dom.destroy, dom.undefine):
                try:
                    step()
                except libvirt.libvirtError:
                    pass
        for c in (conn, self.conn):
            if c is not None:
                try:
                    c.close()
                except Exception:
                    pass
        if self.driver is not None:
            try:
                self.driver.cleanup()
            except Exception:
                pass
        self.timer.uninstall()

    # -- libvirt helpers ------------------------------------------------------

    def _on_qemu_event(self, conn, dom, event, seconds, micros, details,
                       opaque):
        try:
            status = json.loads(details).get('status')
        except (TypeError, ValueError):
            return
        with self._cond:
            self._qemu_events.append((seconds + micros / 1e6,
                                      dom.UUIDString(), status))

    def qemu_pivots(self, holds, uuid):
        """For each pivot call: how long QEMU took from the job's last
        ``ready`` before the pivot to ``concluded`` (its JOB_STATUS_CHANGE
        events, QEMU's own clock): the part of the call in which QEMU
        completes the job, the guest's I/O drained for the switch."""
        with self._cond:
            events = [(t, st) for t, u, st in self._qemu_events if u == uuid]
        for c in holds:
            if not c['label'].endswith('pivot') or not c['ok']:
                continue
            window = [(t, st) for t, st in events
                      if c['wall0'] - 0.5 <= t <= c['wall1'] + 0.05]
            done = [t for t, st in window
                    if st == 'concluded' and t >= c['wall0'] - 0.005]
            if not done:
                continue
            ready = [t for t, st in window if st == 'ready' and t <= done[0]]
            if ready:
                c['qemu_seconds'] = done[0] - max(ready[-1], c['wall0'])

    def _on_job(self, conn, dom, disk, job_type, status, opaque):
        with self._cond:
            self._events[(dom.UUIDString(), disk)].append(status)
            self._cond.notify_all()

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
        else:
            import libvirt
            from migrator_compute.drivers.libvirt import guest
            dom = self.dom(role)
            chain.target = guest.next_scsi_target(
                guest.parse(dom.XMLDesc(0)))
            dom.attachDeviceFlags(
                guest.new_disk_xml(chain.target, 'file', chain.path),
                libvirt.VIR_DOMAIN_AFFECT_LIVE |
                libvirt.VIR_DOMAIN_AFFECT_CONFIG)

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
        while chain.target in [t for t in self._targets(dom)]:
            if time.monotonic() > deadline:
                raise BenchError('%s did not go away' % chain.target)
            time.sleep(0.05)

    @staticmethod
    def _targets(dom):
        from migrator_compute.drivers.libvirt import guest
        return guest.scsi_targets(guest.parse(dom.XMLDesc(0)))

    def writer(self, role, chain, seed, **kw):
        w = Writer(self.domains[role][0],
                   disk_alias(self.dom(role), chain.target), chain.size,
                   seed, **kw)
        self.writers.append(w)
        return w

    def few_writes(self, role, chain, n, rng):
        """A few 64 KiB writes from this thread (recorded in
        ``chain.pending``)."""
        dom = self.dom(role)
        dev = disk_alias(dom, chain.target)
        for _ in range(n):
            off = rng.randrange(0, chain.size // (64 * KiB)) * 64 * KiB
            pat = rng.randrange(1, 256)
            guest_write(dom, dev, off, 64 * KiB, pat)
            chain.pending.append((off, 64 * KiB, pat))

    # -- the two approaches -------------------------------------------------

    def run_ours(self, chain, hook=None):
        """start -> copy (migrator's copier) -> complete -> fold-in done.
        Returns the phase times, marks and CPU; ``chain`` is not yet
        verified (its new file is ``result['dst']``)."""
        uuid = self.domains['ours'][1]
        name = self.domains['ours'][0]
        src, dst = chain.path, chain.new_path()
        fresh_volume(dst, chain.size)
        evict(src)
        dst_aid = str(uuid_mod.uuid4())
        done = threading.Event()
        outcome = []

        def on_done(err):
            outcome.append(err)
            done.set()

        pid = qemu_pid(name)
        mark = self.timer.mark()
        cpu0 = cpu_sample(pid)
        t0 = time.perf_counter()
        self.driver.migration_start(uuid, chain.aid)
        t1 = time.perf_counter()
        if hook:
            hook('frozen')
        copy = self.copy_worker.copy(src, dst, chain.size)
        t2 = time.perf_counter()
        if hook:
            hook('copied')
        self.driver.migration_complete(uuid, chain.aid, dst_aid,
                                       conn_info(dst), on_done=on_done)
        t3 = time.perf_counter()
        if hook:
            hook('switched')
        if not done.wait(self.args.fold_timeout):
            raise BenchError('the fold-in did not finish within %ss'
                             % self.args.fold_timeout)
        t4 = time.perf_counter()
        cpu1 = cpu_sample(pid)
        if outcome[0] is not None:
            raise BenchError('the fold-in failed: %s' % outcome[0])
        if self.live_chain('ours', chain.target) != [os.path.realpath(dst)]:
            raise BenchError('after the fold-in the disk is on %s'
                             % self.live_chain('ours', chain.target))
        timings = self.driver.timings.pop(chain.aid, {})
        chain.aid = dst_aid
        holds = self.timer.since(mark)
        self.qemu_pivots(holds, uuid)
        return {'approach': 'ours', 'dst': dst,
                'marks': {'t0': t0, 'frozen': t1, 'copied': t2,
                          'switched': t3, 'done': t4},
                'phases': {'start': t1 - t0, 'copy': t2 - t1,
                           'complete': t3 - t2, 'fold': t4 - t3},
                'total': t4 - t0,
                'cpu': cpu_delta(cpu0, cpu1),
                'holds': holds,
                'copier': copy,
                'driver_timings': timings}

    def run_mirror(self, chain, hook=None):
        """Nova's swap_volume: full mirror onto the pre-created
        destination (REUSE_EXT), wait READY, pivot, rewrite the
        persistent definition."""
        import libvirt
        from migrator_compute.drivers.libvirt import blockjob
        from migrator_compute.drivers.libvirt import guest
        name, uuid = self.domains['mirror']
        target = chain.target
        src, dst = chain.path, chain.new_path()
        fresh_volume(dst, chain.size)
        evict(src)
        dom = self.dom('mirror')
        dest_xml = ("<disk type='file'><driver type='raw'/>"
                    "<source file='%s'/></disk>" % dst)
        with self._cond:
            self._events.pop((uuid, target), None)
        pid = qemu_pid(name)
        mark = self.timer.mark()
        cpu0 = cpu_sample(pid)
        t0 = time.perf_counter()
        dom.blockCopy(target, dest_xml, None,
                      libvirt.VIR_DOMAIN_BLOCK_COPY_REUSE_EXT |
                      libvirt.VIR_DOMAIN_BLOCK_COPY_TRANSIENT_JOB)
        if hook:
            hook('copying')
        self._wait_ready(dom, uuid, target)
        t1 = time.perf_counter()
        with self.timer.label('mirror_pivot'):
            deadline = time.monotonic() + 60
            while True:
                try:
                    dom.blockJobAbort(
                        target, libvirt.VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT)
                    break
                except libvirt.libvirtError as e:
                    if e.get_error_code() != blockjob.NOT_READY or \
                            time.monotonic() > deadline:
                        raise
                    time.sleep(0.02)
        t2 = time.perf_counter()
        if self.live_chain('mirror', target) != [os.path.realpath(dst)]:
            raise BenchError('after the mirror the disk is on %s'
                             % self.live_chain('mirror', target))
        pers = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE |
                           libvirt.VIR_DOMAIN_XML_SECURE)
        disk = guest.find_disk(guest.parse(pers), target)
        guest.set_source(disk, 'file', dst, 'raw')
        self.conn.defineXML(guest.replace_disk(pers, target, disk))
        t3 = time.perf_counter()
        cpu1 = cpu_sample(pid)
        if hook:
            hook('pivoted')
        holds = self.timer.since(mark)
        self.qemu_pivots(holds, uuid)
        return {'approach': 'mirror', 'dst': dst,
                'marks': {'t0': t0, 'ready': t1, 'pivoted': t2, 'done': t3},
                'phases': {'mirror': t1 - t0, 'pivot': t2 - t1,
                           'define': t3 - t2},
                'total': t3 - t0,
                'cpu': cpu_delta(cpu0, cpu1),
                'holds': holds}

    def _wait_ready(self, dom, uuid, target, timeout=3600):
        import libvirt
        deadline = time.monotonic() + timeout
        while True:
            info = dom.blockJobInfo(target, 0)
            with self._cond:
                statuses = list(self._events.get((uuid, target), ()))
            if libvirt.VIR_DOMAIN_BLOCK_JOB_FAILED in statuses or \
                    libvirt.VIR_DOMAIN_BLOCK_JOB_CANCELED in statuses:
                raise BenchError('the mirror job failed')
            if not info:
                raise BenchError('the mirror job vanished')
            if libvirt.VIR_DOMAIN_BLOCK_JOB_READY in statuses or \
                    (info['end'] and info['cur'] == info['end']):
                return
            if time.monotonic() > deadline:
                raise BenchError('the mirror was not ready after %ss'
                                 % timeout)
            with self._cond:
                self._cond.wait(0.05)

    def run_dd(self, chain):
        """The disk's limit for one copy: dd bs=1M with O_DIRECT."""
        out = os.path.join(self.workdir, 'dd-target.raw')
        fresh_volume(out, chain.size)
        evict(chain.path)
        t0 = time.perf_counter()
        subprocess.run(['dd', 'if=%s' % chain.path, 'of=%s' % out,
                        'bs=1M', 'iflag=direct', 'oflag=direct',
                        'conv=notrunc,fsync', 'status=none'], check=True)
        took = time.perf_counter() - t0
        os.unlink(out)
        return took

    def finish(self, role, chain, run, writes=(), check_source=False):
        """Flush the guest, verify the destination byte for byte, and
        record the run."""
        guest_flush(self.dom(role), chain.target)
        t = time.perf_counter()
        chain.verify(run['dst'], writes, check_source)
        run['verify_seconds'] = time.perf_counter() - t
        run['verified'] = True
        evict(chain.path)
        self.results['runs'].append(run)
        return run

    # -- phase 1: many migrations under continuous guest writes ------------

    def phase_holds(self):
        a = self.args
        log('Phase 1: %d migrations of a %s volume, the guest writing as '
            'fast as it can', a.migrations, fmt_size(a.small_size))
        chain = Chain(self, 'small', a.small_size)
        with self.unit():
            self.attach('ours', chain)
        with open(chain.path, 'rb') as f:
            model = bytearray(f.read())
        for i in range(a.migrations):
            with self.unit():
                self._one_hold_run(i, chain, model)
        with self.unit():
            self.detach('ours', chain)
        os.unlink(chain.path)

    def _one_hold_run(self, i, chain, model):
        a = self.args
        w = self.writer('ours', chain, seed=1000 + i, min_len=4 * KiB,
                        max_len=a.writer_max)
        w.start()
        w.wait_for(5)
        run = self.run_ours(chain)
        n_done = w.count
        w.wait_for(5)           # it goes on writing afterwards
        w.stop()
        self.writers.remove(w)
        guest_flush(self.dom('ours'), chain.target)
        apply_writes(model, 0, w.writes)
        with open(run['dst'], 'rb') as f:
            data = f.read()
        if data != model:
            raise DataMismatch(
                'migration %d: %s differs from the expected content '
                'at byte %d' % (i, run['dst'],
                                first_difference(data, model)))
        os.unlink(chain.path)
        chain.path = run['dst']
        run['verified'] = True
        m = run['marks']
        fold_writes = [x for x in w.times
                       if m['switched'] <= x[0] < m['done']]
        run.update({
            'phase': 'holds', 'size': a.small_size, 'index': i,
            'guest_writes': len(w.writes),
            'guest_writes_before_done': n_done,
            'guest_writes_during_fold': len(fold_writes),
            'guest_bytes_during_fold': w.written_bytes(m['switched'],
                                                       m['done']),
            'guest_write_rate_mbs': (
                w.written_bytes(m['t0'], m['done']) / MiB /
                (m['done'] - m['t0'])),
            'guest_max_rtt_during_hold': self._rtt_during_holds(
                run['holds'], w)})
        self.results['runs'].append(run)
        log('  %2d/%d: freeze %s ms, copy pivot %s ms, fold pivot %s '
            'ms, fold-in %.2f s (%d guest writes during it), total '
            '%.2f s', i + 1, a.migrations,
            *[self._hold(run, k) for k in ('freeze', 'copy_pivot',
                                           'fold_pivot')],
            run['phases']['fold'], len(fold_writes), run['total'])

    @staticmethod
    def _hold(run, label):
        vals = [c['seconds'] for c in run['holds']
                if c['label'] == label and c['ok']]
        return '%.1f' % (vals[0] * 1000) if vals else '-'

    @staticmethod
    def _rtt_during_holds(holds, w):
        out = {}
        for c in holds:
            rtts = [t1 - t0 for t0, t1 in w.times
                    if t0 < c['t1'] and t1 > c['t0']]
            if rtts:
                out[c['label']] = max(out.get(c['label'], 0), max(rtts))
        return out

    # -- phase 2: end to end, CPU, latency -----------------------------------

    def phase_e2e(self):
        a = self.args
        for si, size in enumerate(a.sizes):
            log('Phase 2: %s volumes, %d repetitions of each approach',
                fmt_size(size), a.repeat)
            chains = {}
            for role in ('ours', 'mirror'):
                t = time.perf_counter()
                chains[role] = Chain(self, '%s-%s' % (role, fmt_size(size)),
                                     size)
                with self.unit():
                    self.attach(role, chains[role])
                log('  created the %s volume (%.1f s)', role,
                    time.perf_counter() - t)
            rng = random.Random(size)
            for rep in range(a.repeat):
                order = ['ours', 'mirror']
                if (rep + si) % 2:
                    order.reverse()
                if a.dd:
                    took = self.run_dd(chains['ours'])
                    self.results['runs'].append({
                        'approach': 'dd', 'phase': 'e2e', 'size': size,
                        'rep': rep, 'total': took})
                    log('  rep %d: dd O_DIRECT %.2f s', rep + 1, took)
                for role in order:
                    chain = chains[role]

                    def hook(step, role=role, chain=chain):
                        if step in ('frozen', 'copying'):
                            self.few_writes(role, chain, 2, rng)
                        elif step in ('switched', 'pivoted'):
                            self.few_writes(role, chain, 2, rng)
                    with self.unit():
                        run = (self.run_ours if role == 'ours'
                               else self.run_mirror)(chain, hook=hook)
                        run.update({'phase': 'e2e', 'size': size,
                                    'rep': rep})
                        self.finish(role, chain, run,
                                    check_source=(role == 'ours'))
                    log('  rep %d: %-6s %.2f s  (%s)  QEMU CPU %.3f s',
                        rep + 1, role, run['total'],
                        ', '.join('%s %.2f' % kv
                                  for kv in run['phases'].items()),
                        run['cpu']['seconds'])
            if si == 0 and a.latency_runs:
                self.phase_latency(chains, size)
            for role, chain in chains.items():
                with self.unit():
                    self.detach(role, chain)
                os.unlink(chain.path)

    def phase_latency(self, chains, size):
        a = self.args
        log('Phase 3: guest write latency (4 KiB writes every %g ms), '
            'idle and during %d migrations of each approach',
            a.probe_interval * 1000, a.latency_runs)
        lat = self.results.setdefault('latency_raw', {})
        for role in ('ours', 'mirror'):
            with self.unit():
                w = self.writer(role, chains[role], seed=7 + len(role),
                                interval=a.probe_interval)
                w.start()
                time.sleep(a.idle_seconds)
                w.stop()
                self.writers.remove(w)
            chains[role].pending.extend(w.writes)
            lat.setdefault('idle', []).extend(w.latencies())
            log('  idle (%s domain): %d writes, median %.2f ms', role,
                w.count, quantile(w.latencies(), 0.5) * 1000)
        for rep in range(a.latency_runs):
            order = ['mirror', 'ours'] if rep % 2 else ['ours', 'mirror']
            for role in order:
                with self.unit():
                    self._one_latency_run(role, chains[role], size, rep, lat)

    def _one_latency_run(self, role, chain, size, rep, lat):
        w = self.writer(role, chain, seed=100 + rep,
                        interval=self.args.probe_interval)
        w.start()
        w.wait_for(5)
        run = (self.run_ours if role == 'ours' else self.run_mirror)(chain)
        w.wait_for(5)
        w.stop()
        self.writers.remove(w)
        run.update({'phase': 'latency', 'size': size, 'rep': rep})
        m = run['marks']
        run['latency'] = summary(w.latencies(m['t0'], m['done']))
        run['guest_max_rtt_during_hold'] = self._rtt_during_holds(
            run['holds'], w)
        lat.setdefault(role, []).extend(w.latencies(m['t0'], m['done']))
        if role == 'ours':
            steps = [('start', 't0', 'frozen'), ('copy', 'frozen', 'copied'),
                     ('complete', 'copied', 'switched'),
                     ('fold', 'switched', 'done')]
        else:
            steps = [('mirror', 't0', 'ready'), ('pivot', 'ready', 'pivoted'),
                     ('define', 'pivoted', 'done')]
        for step, lo, hi in steps:
            lat.setdefault('%s:%s' % (role, step), []).extend(
                w.latencies(m[lo], m[hi]))
        self.finish(role, chain, run, writes=w.writes)
        log('  %-6s: %d writes during %.2f s, median %.2f ms, max %.2f ms',
            role, run['latency']['n'], run['total'],
            run['latency']['median'] * 1000, run['latency']['max'] * 1000)

    # -- report -------------------------------------------------------------

    def report(self):
        a = self.args
        runs = [r for r in self.results['runs'] if r.get('verified')]
        ours = [r for r in runs if r['approach'] == 'ours']
        mirror = [r for r in runs if r['approach'] == 'mirror']
        res = self.results
        lines = []
        p = lines.append

        # Holds.
        holds = collections.defaultdict(list)
        in_qemu = collections.defaultdict(list)
        retries = collections.Counter()
        for r in ours + mirror:
            for c in r['holds']:
                if c['ok']:
                    holds[c['label']].append(c['seconds'])
                    if 'qemu_seconds' in c:
                        in_qemu[c['label']].append(c['qemu_seconds'])
                else:
                    retries[c['label']] += 1
        res['pivot_in_qemu'] = {k: summary(v) for k, v in in_qemu.items()}
        res['holds'] = {k: summary(v) for k, v in holds.items()}
        res['holds_failed_attempts'] = dict(retries)
        p('')
        p('== Guest I/O held: duration of the libvirt calls (%d verified '
          'migrations of ours, %d mirrors) ==' % (len(ours), len(mirror)))
        p('%-34s %5s %8s %8s %8s' % ('call', 'n', 'median', 'p99', 'max'))
        names = [('freeze', 'freeze (snapshotCreateXML)'),
                 ('copy_pivot', 'copy pivot (blockJobAbort PIVOT)'),
                 ('fold_pivot', 'fold-in pivot (blockJobAbort PIVOT)'),
                 ('mirror_pivot', 'mirror pivot, Nova (reference)')]
        for key, label in names:
            s = res['holds'].get(key, {'n': 0})
            p('%-34s %5d %s %s %s  ms' % (
                label, s['n'], ms(s.get('median')), ms(s.get('p99')),
                ms(s.get('max'))))
        p('of which QEMU completing the job (its events ready -> '
          'concluded):')
        for key, label in names[1:]:
            s = res['pivot_in_qemu'].get(key, {'n': 0})
            p('  %-32s %5d %s %s %s  ms' % (
                label.split(' (')[0].split(',')[0], s['n'],
                ms(s.get('median')), ms(s.get('p99')), ms(s.get('max'))))
        if retries:
            p('  pivots refused as not ready, retried: %s' % dict(retries))
        phase1 = [r for r in ours if r.get('phase') == 'holds']
        rtt = collections.defaultdict(list)
        for r in ours + mirror:
            for k, v in r.get('guest_max_rtt_during_hold', {}).items():
                rtt[k].append(v)
        res['guest_rtt_overlapping_holds'] = {k: summary(v)
                                              for k, v in rtt.items()}
        if rtt:
            p('  longest guest write round trip overlapping each call, '
              'median (max) over the runs with a guest writer: ' +
              ', '.join('%s %.1f (%.1f) ms' % (k, quantile(v, 0.5) * 1000,
                                               max(v) * 1000)
                        for k, v in sorted(rtt.items())))
        drv = collections.defaultdict(list)
        for r in ours:
            for k, v in r.get('driver_timings', {}).items():
                drv[k].append(v)
        res['driver_timings'] = {k: summary(v) for k, v in drv.items()}
        if drv:
            p('  driver-reported steps (median): ' + ', '.join(
                '%s %.3f s' % (k, quantile(v, 0.5))
                for k, v in sorted(drv.items())))

        # End to end and CPU.
        e2e = {}
        p('')
        p('== End to end (median of %d, same volume moved file to file; '
          'seconds) ==' % a.repeat)
        p('%-5s %8s %8s %7s %7s %7s %7s %8s %7s %8s' % (
            'size', 'ours', 'mirror', 'ratio', 'start', 'copy', 'compl',
            'fold', 'dd', 'ours/dd'))
        for size in a.sizes:
            sel = {ap: [r for r in (runs if ap != 'dd' else res['runs'])
                        if r.get('phase') == 'e2e' and r['size'] == size and
                        r['approach'] == ap]
                   for ap in ('ours', 'mirror', 'dd')}
            if not sel['ours'] or not sel['mirror']:
                continue
            d = {ap: summary([r['total'] for r in v])
                 for ap, v in sel.items() if v}
            d['ours_phases'] = {
                ph: summary([r['phases'][ph] for r in sel['ours']])
                for ph in ('start', 'copy', 'complete', 'fold')}
            d['mirror_phases'] = {
                ph: summary([r['phases'][ph] for r in sel['mirror']])
                for ph in ('mirror', 'pivot', 'define')}
            d['ratio_ours_to_mirror'] = (d['ours']['median'] /
                                         d['mirror']['median'])
            d['cpu_ours'] = summary([r['cpu']['seconds']
                                     for r in sel['ours']])
            d['cpu_mirror'] = summary([r['cpu']['seconds']
                                       for r in sel['mirror']])
            d['cpu_ticks_ours'] = summary([r['cpu']['ticks_seconds']
                                           for r in sel['ours']])
            d['cpu_ticks_mirror'] = summary([r['cpu']['ticks_seconds']
                                             for r in sel['mirror']])
            d['cpu_ratio'] = (d['cpu_ours']['median'] /
                              d['cpu_mirror']['median']
                              if d['cpu_mirror']['median'] else None)
            d['throughput_mbs'] = {
                ap: size / MiB / d[ap]['median'] for ap in d
                if ap in ('ours', 'mirror', 'dd')}
            e2e[fmt_size(size)] = d
            ph = d['ours_phases']
            dd = d.get('dd', {}).get('median')
            p('%-5s %8.2f %8.2f %7.2f %7.3f %7.2f %7.3f %8.3f %7s %8s' % (
                fmt_size(size), d['ours']['median'], d['mirror']['median'],
                d['ratio_ours_to_mirror'], ph['start']['median'],
                ph['copy']['median'], ph['complete']['median'],
                ph['fold']['median'],
                '%.2f' % dd if dd else '-',
                '%.2f' % (d['ours']['median'] / dd) if dd else '-'))
        res['e2e'] = e2e
        p('  (ours = start + copy by migrator\'s copier + complete + '
          'fold-in; mirror = blockCopy REUSE_EXT + READY + pivot + '
          'define; ratio = ours / mirror)')

        p('')
        p('== QEMU CPU time, non-vCPU threads (median; seconds) ==')
        p('%-5s %9s %9s %7s   %s' % ('size', 'ours', 'mirror', 'ratio',
                                     'ours by thread | mirror by thread'))
        for key, d in e2e.items():
            by = {}
            for ap in ('ours', 'mirror'):
                acc = collections.defaultdict(list)
                for r in runs:
                    if r.get('phase') == 'e2e' and fmt_size(r['size']) == \
                            key and r['approach'] == ap:
                        for k, v in r['cpu']['by_thread'].items():
                            acc[k].append(v)
                by[ap] = ', '.join('%s %.3f' % (k, quantile(v, 0.5))
                                   for k, v in sorted(acc.items()))
            p('%-5s %9.3f %9.3f %7.3f   %s | %s' % (
                key, d['cpu_ours']['median'], d['cpu_mirror']['median'],
                d['cpu_ratio'] if d['cpu_ratio'] is not None else -1,
                by['ours'], by['mirror']))
        p('  (schedstat of the threads whose comm is not "CPU n/KVM"; '
          'clock-tick cross-check ours/mirror: %s)' % ', '.join(
              '%s %.2f/%.2f' % (k, d['cpu_ticks_ours']['median'],
                                d['cpu_ticks_mirror']['median'])
              for k, d in e2e.items()))

        # Latency.
        raw = res.pop('latency_raw', {})
        res['latency'] = {k: summary(v) for k, v in raw.items()}
        if raw:
            p('')
            p('== Guest write latency: round trip of one 4 KiB qemu-io '
              'write through HMP (%s volume; ms) ==' % fmt_size(a.sizes[0]))
            p('%-22s %6s %8s %8s %8s %8s' % ('condition', 'n', 'median',
                                             'p90', 'p99', 'max'))
            keys = ['idle', 'ours'] + sorted(k for k in raw
                                             if k.startswith('ours:')) + \
                ['mirror'] + sorted(k for k in raw
                                    if k.startswith('mirror:'))
            for k in keys:
                s = res['latency'].get(k)
                if not s or not s['n']:
                    continue
                p('%-22s %6d %s %s %s %s' % (
                    ('  ' if ':' in k else '') + k, s['n'], ms(s['median']),
                    ms(s['p90']), ms(s['p99']), ms(s['max'])))
            idle = res['latency'].get('idle', {}).get('median')
            if idle:
                p('  median vs idle: ours %.2fx, mirror %.2fx' % (
                    res['latency']['ours']['median'] / idle,
                    res['latency']['mirror']['median'] / idle))

        # Fold-in under continuous writes.
        fold = {}
        if phase1:
            fold = {
                'migrations': len(phase1),
                'finished': sum(1 for r in phase1 if r.get('verified')),
                'fold_seconds': summary([r['phases']['fold']
                                         for r in phase1]),
                'complete_seconds': summary([r['phases']['complete']
                                             for r in phase1]),
                'guest_writes_during_fold': summary(
                    [r['guest_writes_during_fold'] for r in phase1]),
                'guest_mib_during_fold': summary(
                    [r['guest_bytes_during_fold'] / MiB for r in phase1]),
                'guest_write_rate_mbs': summary(
                    [r['guest_write_rate_mbs'] for r in phase1]),
                'total_seconds': summary([r['total'] for r in phase1])}
            res['fold_under_writes'] = fold
            p('')
            p('== Fold-in while the guest writes as fast as it can (%d '
              'migrations of %s, writes of 4 KiB..%s) ==' % (
                  len(phase1), fmt_size(a.small_size),
                  fmt_size(a.writer_max) if a.writer_max % MiB == 0
                  else '%dK' % (a.writer_max // KiB)))
            fs = fold['fold_seconds']
            p('  fold-in: median %.3f s, p99 %.3f s, max %.3f s; finished '
              '%d/%d' % (fs['median'], fs['p99'], fs['max'],
                         fold['finished'], fold['migrations']))
            p('  complete (sync part): median %.3f s, max %.3f s' % (
                fold['complete_seconds']['median'],
                fold['complete_seconds']['max']))
            p('  guest writes during the fold-in: median %d (%.1f MiB), '
              'min %d; guest write rate %.0f MB/s (median)' % (
                  fold['guest_writes_during_fold']['median'],
                  fold['guest_mib_during_fold']['median'],
                  fold['guest_writes_during_fold']['min'],
                  fold['guest_write_rate_mbs']['median']))

        # Targets.
        targets = []

        def target(name, ok, detail):
            targets.append({'target': name, 'pass': bool(ok),
                            'detail': detail})

        for key, label in names[:3]:
            s = res['holds'].get(key, {'n': 0})
            if s['n'] < 20:
                target('%s p99 < 50 ms' % label.split(' (')[0], False,
                       'only %d samples (need 20)' % s['n'])
            else:
                target('%s p99 < 50 ms' % label.split(' (')[0],
                       s['p99'] < HOLD_LIMIT,
                       'p99 %.1f ms over %d' % (s['p99'] * 1000, s['n']))
        for key, d in e2e.items():
            target('end to end %s: ours <= mirror' % key,
                   d['ours']['median'] <= d['mirror']['median'],
                   'ours %.2f s, mirror %.2f s (x%.2f)' % (
                       d['ours']['median'], d['mirror']['median'],
                       d['ratio_ours_to_mirror']))
        for key, d in e2e.items():
            ratio = d['cpu_ratio']
            target('QEMU CPU %s: ours <= 0.2 x mirror' % key,
                   ratio is not None and ratio <= CPU_RATIO_LIMIT,
                   'ours %.3f s, mirror %.3f s (x%.3f)' % (
                       d['cpu_ours']['median'], d['cpu_mirror']['median'],
                       ratio if ratio is not None else float('nan')))
        if phase1:
            ok = (fold['finished'] == fold['migrations'] == a.migrations
                  and fold['guest_writes_during_fold']['min'] > 0)
            target('fold-in finishes under continuous writes', ok,
                   '%d/%d finished, max %.2f s, >= %d guest writes during '
                   'each' % (fold['finished'], a.migrations,
                             fold['fold_seconds']['max'],
                             fold['guest_writes_during_fold']['min']))
        else:
            target('fold-in finishes under continuous writes', False,
                   'not measured')
        res['targets'] = targets
        p('')
        p('== Targets ==')
        for t in targets:
            p('%s  %-45s %s' % ('PASS' if t['pass'] else 'FAIL',
                                t['target'], t['detail']))
        res['all_targets_met'] = all(t['pass'] for t in targets)
        print('\n'.join(lines), flush=True)
        return res['all_targets_met']


def main(argv=None):
    parser = argparse.ArgumentParser(
        description='Benchmark of the live migration path against a QEMU '
                    'mirror (Nova swap_volume).  Needs root, libvirtd, '
                    'QEMU.')
    parser.add_argument('--sizes', default='1G,4G',
                        type=lambda s: [parse_size(x) for x in s.split(',')],
                        help='volume sizes of the end-to-end comparison '
                             '(default 1G,4G)')
    parser.add_argument('--repeat', type=int, default=3,
                        help='repetitions of each approach per size '
                             '(default 3)')
    parser.add_argument('--migrations', type=int, default=20,
                        help='migrations under continuous guest writes for '
                             'the freeze/pivot and fold-in figures '
                             '(default 20)')
    parser.add_argument('--small-size', type=parse_size, default='256M',
                        help='volume size of those migrations (256M)')
    parser.add_argument('--writer-max', type=parse_size, default='1M',
                        help='largest write of the continuous guest writer '
                             '(1M; writes are 4 KiB..this)')
    parser.add_argument('--latency-runs', type=int, default=2,
                        help='migrations of each approach with the latency '
                             'probe, on the first size (2; 0 skips)')
    parser.add_argument('--probe-interval', type=float, default=0.01,
                        help='seconds between two probe writes (0.01)')
    parser.add_argument('--idle-seconds', type=float, default=5.0,
                        help='length of the idle latency measurement (5)')
    parser.add_argument('--no-dd', dest='dd', action='store_false',
                        help='skip the dd O_DIRECT reference copies')
    parser.add_argument('--fold-timeout', type=float, default=600.0,
                        help='seconds a fold-in may take (600)')
    parser.add_argument('--workdir', default='/var/tmp',
                        help='where the volumes go (a directory is made in '
                             'it and removed at the end; /var/tmp)')
    parser.add_argument('--keep', action='store_true',
                        help='keep the work directory (debugging)')
    parser.add_argument('--json', metavar='PATH',
                        help='write every figure as JSON to PATH')
    parser.add_argument('--verbose', action='store_true',
                        help='log the driver at INFO')
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.migrations < 0:
        parser.error('--repeat must be >= 1 and --migrations >= 0')

    # Exceptions in threads that are not ours (the copier's workers, say)
    # are counted and reported instead of scrolling tracebacks.
    thread_errors = collections.Counter()
    default_hook = threading.excepthook

    def excepthook(hook_args):
        name = hook_args.thread.name if hook_args.thread else '?'
        key = '%s in thread %s: %s' % (hook_args.exc_type.__name__,
                                       re.sub(r'-\d+$', '-N', name),
                                       hook_args.exc_value)
        if not thread_errors[key]:
            default_hook(hook_args)
        thread_errors[key] += 1
    threading.excepthook = excepthook

    import logging
    logging.basicConfig(level=logging.INFO if args.verbose
                        else logging.WARNING,
                        format='%(asctime)s %(levelname)s %(name)s '
                               '%(message)s')

    def interrupt(signum, frame):
        raise KeyboardInterrupt('signal %d' % signum)
    # SIGINT too: a shell starts background jobs with it ignored.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)

    bench = Bench(args)
    bench.results['config'] = {
        'sizes': args.sizes, 'repeat': args.repeat,
        'migrations': args.migrations, 'small_size': args.small_size,
        'writer_max': args.writer_max, 'latency_runs': args.latency_runs,
        'probe_interval': args.probe_interval,
        'idle_seconds': args.idle_seconds, 'dd': args.dd,
        'argv': sys.argv[1:] if argv is None else argv,
        'started': datetime.datetime.now().isoformat()}
    status = 2
    t0 = time.monotonic()
    try:
        bench.setup()
        if args.migrations:
            bench.phase_holds()
        bench.phase_e2e()
        status = 0 if bench.report() else 1
    except KeyboardInterrupt:
        log('Interrupted; cleaning up')
        bench.results['errors'].append('interrupted')
        status = 130
    except DataMismatch as e:
        log('DATA MISMATCH: %s', e)
        bench.results['errors'].append('data mismatch: %s' % e)
    except BenchError as e:
        log('ERROR: %s', e)
        bench.results['errors'].append(str(e))
    except Exception as e:
        import traceback
        traceback.print_exc()
        bench.results['errors'].append('%s: %s' % (type(e).__name__, e))
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            bench.cleanup()
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        bench.results['elapsed_seconds'] = time.monotonic() - t0
        bench.results['status'] = status
        for run in bench.results['runs']:
            for key, n in run.get('copier', {}).get('thread_errors',
                                                    {}).items():
                thread_errors['copier process: ' + key] += n
        bench.results['thread_errors'] = dict(thread_errors)
        for key, n in thread_errors.items():
            log('warning: %d x %s', n, key)
        if args.json:
            with open(args.json, 'w') as f:
                json.dump(bench.results, f, indent=1, sort_keys=True,
                          default=str)
            log('Figures written to %s', args.json)
        log('Done in %.0f s, exit status %d', time.monotonic() - t0, status)
    return status


if __name__ == '__main__':
    sys.exit(main())
