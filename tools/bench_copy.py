#!/usr/bin/env python3
"""Benchmark of the volume copy engine against its peers, in one run.

Volumes (under ``--dir``, removed at the end):

- ``dense``: a file of ``--dense-size`` (2 GiB) pseudo-random bytes;
- ``sparse``: a file of ``--sparse-size`` (8 GiB) with about
  ``--sparse-fraction`` (10%) of it allocated in scattered extents of
  pseudo-random bytes, holes at both ends;
- ``block``: a pair of loop devices of ``--block-size`` (2 GiB) over
  files of the same disk (``losetup --direct-io=on``, so that they
  behave as disks, without a second page cache), the source filled with
  the dense data; before every copy the destination is discarded and
  garbage is written at scattered places, so that a copier which skips
  a range is caught.

Contenders, each timed on every volume in the same run, in an order
that rotates and reverses from one round to the next:

- ``migrator``: the real copy path of a migration, in a worker process
  of its own (so that its peak RSS is its own): the volume worker's
  configuration file, backends loaded from it (``file`` backends, or
  ``block`` backends over the loop devices), the destination volume
  created by its backend, and ``CopyJob`` running the copier that
  ``make_copier`` picks (threaded O_DIRECT file I/O, or parallel dd
  between block devices), with its progress poller reporting every
  second (``migration_progress_report_interval = 1``) to a recording
  conductor stand-in and real notifications (``messagingv2`` over the
  in-process ``fake://`` transport);
- ``migrator-nopoll``: the same without progress reports (the backends'
  ``migration_progress_report = false``), to measure what polling costs;
- ``dd``: ``dd bs=1M iflag=direct oflag=direct conv=notrunc``, what
  Cinder does;
- ``qemu-img``: ``qemu-img convert -n -t none -T none -W -m 16``, the
  sparse-aware peer with 16 requests in flight;
- ``cp``: ``cp --sparse=always``.

Every copy's time includes making its destination durable: migrator's
copier fsyncs it itself, the peers' destination is fsynced right after
they exit.  Page caches are dropped (``sync; echo 3 >
/proc/sys/vm/drop_caches``) before every copy unless
``--no-drop-caches``.  Every destination is then read in full and
compared with the source (SHA-1 of each 4 MiB piece against the
source's, taken once; ranges where both are holes read as zeroes by
definition and are not read); a mismatch ends the benchmark (exit 2).

Then the throttle: ``volume_copy_bps_limit = --throttle-limit``, the
migrator copy of ``--throttle-seconds`` worth of data on the file I/O
path (dense file) and on the dd path (block devices); the rate must be
within 10% of the limit.

Figures (medians over ``--runs`` rounds): MB/s, ratios against dd,
qemu-img and the best peer, the worker's peak RSS (VmHWM), the cost of
progress polling, the throttle's accuracy; PASS/FAIL per target of the
copy engine; all of it as JSON with ``--json``.  See
doc/source/admin/copy-benchmark.rst.

Exit status: 0 every target met, 1 a target missed, 2 the benchmark
could not run or a copy was wrong.
"""

import argparse
import contextlib
import datetime
import hashlib
import json
import os
import platform
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid as uuid_mod

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
#: Granularity of the verification digests.
CHUNK = 4 * MiB
GARBAGE = b'\xde\xad\xbe\xef stale data of another volume '
PEERS = ('dd', 'qemu-img', 'cp')
POLL_INTERVAL = 1
RSS_LIMIT = 100 * MiB


class BenchError(Exception):
    """The benchmark cannot go on (exit 2)."""


def log(msg, *args):
    stamp = datetime.datetime.now().strftime('%H:%M:%S')
    print('[%s] %s' % (stamp, msg % args if args else msg), flush=True)


def parse_size(text):
    units = {'': 1, 'K': KiB, 'M': MiB, 'G': GiB, 'T': 1024 * GiB}
    text = str(text).strip().upper().rstrip('B').rstrip('I')
    try:
        if text and text[-1] in units:
            return int(float(text[:-1]) * units[text[-1]])
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError('not a size: %r' % text)


def fmt_size(size):
    for unit, factor in (('GiB', GiB), ('MiB', MiB), ('KiB', KiB)):
        if size >= factor:
            return '%g %s' % (round(size / factor, 2), unit)
    return '%d B' % size


def median(values):
    return statistics.median(values) if values else None


def mbps(nbytes, seconds):
    return nbytes / seconds / 1e6


# Preparing the volumes ---------------------------------------------------

class Keystream:
    """Deterministic pseudo-random bytes (AES-256-CTR of zeroes through
    openssl, at disk speed), read from a pipe."""

    def __init__(self, seed):
        self.proc = subprocess.Popen(
            ['openssl', 'enc', '-aes-256-ctr', '-nosalt', '-pbkdf2',
             '-pass', 'pass:migrator-bench-%s' % seed, '-in', '/dev/zero'],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)

    def read(self, n):
        parts = []
        while n > 0:
            data = self.proc.stdout.read(min(n, 8 * MiB))
            if not data:
                raise BenchError('openssl stopped writing')
            parts.append(data)
            n -= len(data)
        return b''.join(parts)

    def close(self):
        self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()


def write_ranges(path, ranges, seed):
    """Write pseudo-random data into each (offset, length)."""
    stream = Keystream(seed)
    fd = os.open(path, os.O_WRONLY)
    try:
        for offset, length in ranges:
            while length > 0:
                n = min(length, 8 * MiB)
                data = stream.read(n)
                view = memoryview(data)
                while view:
                    w = os.pwrite(fd, view, offset)
                    view, offset = view[w:], offset + w
                length -= n
        os.fsync(fd)
    finally:
        os.close(fd)
        stream.close()


def fresh_file(path, size):
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.ftruncate(fd, size)
    finally:
        os.close(fd)


def sparse_layout(size, fraction, seed=42):
    """Scattered extents covering about ``fraction`` of ``size``, none
    in the first and last 1/32 of the volume (holes at both ends)."""
    rnd = random.Random(seed)
    grain = 64 * KiB
    margin = max(size // 32, grain)
    lo, hi = margin, size - margin
    target = int(size * fraction)
    extents = []
    total = 0
    attempts = 0
    while total < target and attempts < 100000:
        attempts += 1
        length = rnd.randrange(4, 97) * grain          # 256 KiB .. 6 MiB
        length = min(length, target - total + grain - 1) // grain * grain
        if length <= 0:
            break
        offset = rnd.randrange(lo // grain, (hi - length) // grain) * grain
        # Keep a hole between any two extents.
        if any(offset < e + l + grain and e < offset + length + grain
               for e, l in extents):
            continue
        extents.append((offset, length))
        total += length
    return sorted(extents)


def allocated(path):
    return os.stat(path).st_blocks * 512


# Verification ------------------------------------------------------------

def _extents(fd, size):
    import errno as errno_mod
    out = []
    offset = 0
    while offset < size:
        try:
            data = os.lseek(fd, offset, os.SEEK_DATA)
        except OSError as e:
            if e.errno == errno_mod.ENXIO:
                break
            return [(0, size)]
        if data >= size:
            break
        hole = min(os.lseek(fd, data, os.SEEK_HOLE), size)
        out.append((data, hole))
        offset = hole
    return out


def _chunks_with_data(fd, size):
    """Indexes of the CHUNK-sized pieces of ``fd`` that may hold data."""
    chunks = set()
    for start, end in _extents(fd, size):
        chunks.update(range(start // CHUNK, (end - 1) // CHUNK + 1))
    return chunks


ZERO_DIGESTS = {}


def _zero_digest(n):
    if n not in ZERO_DIGESTS:
        ZERO_DIGESTS[n] = hashlib.sha1(bytes(n)).digest()
    return ZERO_DIGESTS[n]


def _read_digests(path, size, chunks):
    """{chunk: sha1} of the given chunks, read without filling the page
    cache."""
    digests = {}
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, size, os.POSIX_FADV_SEQUENTIAL)
        for index in sorted(chunks):
            offset = index * CHUNK
            n = min(CHUNK, size - offset)
            data = os.pread(fd, n, offset)
            while len(data) < n:
                more = os.pread(fd, n - len(data), offset + len(data))
                if not more:
                    raise BenchError('%s ends at %d' % (path,
                                                        offset + len(data)))
                data += more
            digests[index] = hashlib.sha1(data).digest()
            if index % 16 == 15:
                os.posix_fadvise(fd, 0, offset + n, os.POSIX_FADV_DONTNEED)
        os.posix_fadvise(fd, 0, size, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    return digests


class Reference:
    """The source's digests, taken once."""

    def __init__(self, path, size):
        self.path = path
        self.size = size
        fd = os.open(path, os.O_RDONLY)
        try:
            self.data_chunks = _chunks_with_data(fd, size)
        finally:
            os.close(fd)
        self.digests = _read_digests(path, size, self.data_chunks)

    def expected(self, index):
        if index in self.digests:
            return self.digests[index]
        return _zero_digest(min(CHUNK, self.size - index * CHUNK))

    def verify(self, dst):
        """Read every byte of dst that may hold data (and those where
        the source does) and compare; raise BenchError at the first
        difference."""
        fd = os.open(dst, os.O_RDONLY)
        try:
            chunks = _chunks_with_data(fd, self.size) | self.data_chunks
        finally:
            os.close(fd)
        digests = _read_digests(dst, self.size, chunks)
        for index in sorted(chunks):
            if digests[index] != self.expected(index):
                offset = index * CHUNK
                raise BenchError('%s differs from %s in bytes %d to %d'
                                 % (dst, self.path, offset,
                                    min(offset + CHUNK, self.size)))
        return len(chunks) * CHUNK


# Timed runs --------------------------------------------------------------

def drop_caches(enabled):
    if not enabled:
        return
    os.sync()
    with open('/proc/sys/vm/drop_caches', 'w') as f:
        f.write('3\n')


def fsync_path(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def run_peer(tool, src, dst, size):
    """Run a peer, fsync its destination; (seconds, cpu seconds, peak
    RSS of the tool in bytes)."""
    if tool == 'dd':
        cmd = ['dd', 'if=%s' % src, 'of=%s' % dst, 'bs=1M',
               'iflag=direct', 'oflag=direct', 'conv=notrunc',
               'status=none']
    elif tool == 'qemu-img':
        cmd = ['qemu-img', 'convert', '-n', '-t', 'none', '-T', 'none',
               '-W', '-m', '16', '-f', 'raw', '-O', 'raw', src, dst]
    elif tool == 'cp':
        cmd = ['cp', '--sparse=always', src, dst]
    else:
        raise ValueError(tool)
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors='replace').strip()
    proc.stderr.close()
    if proc.returncode != 0:
        raise BenchError('%s failed (%d): %s' % (' '.join(cmd),
                                                 proc.returncode, err))
    fsync_path(dst)
    elapsed = time.monotonic() - started
    return {'seconds': elapsed, 'cpu_seconds': usage.ru_utime +
            usage.ru_stime, 'tool_rss_bytes': usage.ru_maxrss * 1024}


WORKER_CONF = """\
[DEFAULT]
state_path = {state}
host = bench-worker
transport_url = fake:/
log_file = {log}
debug = false

[oslo_messaging_notifications]
driver = messagingv2

[volume]
enabled_backends = src,dst
migration_progress_report_interval = {interval}
volume_copy_bps_limit = {limit}
{extra}
[src]
backend_type = {kind}
{src_opts}
migration_progress_report = {report}

[dst]
backend_type = {kind}
{dst_opts}
migration_progress_report = {report}
"""


def run_worker(workdir, kind, src, dst, size, poll=True, limit=0,
               extra_opts=None):
    """The migrator copy in a worker process of its own.

    ``kind`` file: ``src`` is a source volume file (linked into the
    source backend's directory), ``dst`` the destination backend's
    directory.  ``kind`` block: both are loop devices.  Returns the
    worker's report (with ``dst_path``)."""
    run_id = uuid_mod.uuid4().hex[:8]
    state = os.path.join(workdir, 'worker-%s' % run_id)
    os.makedirs(state)
    if kind == 'file':
        src_dir = os.path.join(state, 'src')
        os.makedirs(src_dir)
        src_opts = 'file_path = %s' % src_dir
        dst_opts = 'file_path = %s' % dst
        src_id = str(uuid_mod.uuid4())
        os.link(src, os.path.join(src_dir, 'volume-' + src_id))
    else:
        src_opts = 'block_devices = %s\nvolume_clear = none' % src
        dst_opts = 'block_devices = %s\nvolume_clear = none' % dst
        src_id = str(uuid_mod.uuid4())
    conf = os.path.join(state, 'migrator.conf')
    extra = ''.join('%s = %s\n' % kv for kv in (extra_opts or {}).items())
    with open(conf, 'w') as f:
        f.write(WORKER_CONF.format(
            state=state, log=os.path.join(state, 'worker.log'),
            interval=POLL_INTERVAL, limit=limit, extra=extra, kind=kind,
            src_opts=src_opts, dst_opts=dst_opts,
            report='true' if poll else 'false'))
    spec = {'conf': conf, 'kind': kind, 'size': size, 'src_id': src_id,
            'sample': bool(limit)}
    if kind == 'block':
        # The source volume is the whole source device (creating a
        # smaller one would zero the rest of it).
        fd = os.open(src, os.O_RDONLY)
        try:
            spec['src_size'] = os.lseek(fd, 0, os.SEEK_END)
        finally:
            os.close(fd)
    proc = subprocess.run(
        [sys.executable, os.path.abspath(__file__), '--worker',
         json.dumps(spec)],
        stdin=subprocess.DEVNULL, capture_output=True, text=True)
    lines = proc.stdout.strip().splitlines()
    try:
        report = json.loads(lines[-1])
    except (IndexError, ValueError):
        raise BenchError('the worker failed (%d): %s %s'
                         % (proc.returncode, proc.stdout[-2000:],
                            proc.stderr[-2000:]))
    if report.get('state') != 'done':
        raise BenchError('the migrator copy failed: %s (log in %s)'
                         % (report.get('error'), state))
    report['state_dir'] = state
    if kind == 'file':
        os.unlink(os.path.join(src_dir, 'volume-' + src_id))
    return report


def worker_main(spec):
    """Inside the worker process: one copy as the volume worker does
    it; print a JSON report as the last line."""
    import threading

    from oslo_log import log as logging

    from migrator_api.common import context
    from migrator_api.common import rpc
    from migrator_api import conf as mconf
    from migrator_api.conf import opts as conf_opts
    from migrator_volume import backends as mbackends
    from migrator_volume.copy import job as copy_job
    from migrator_volume.copy import progress
    from migrator_volume import notifications

    conf = mconf.CONF
    logging.register_options(conf)
    conf_opts.set_defaults(conf)
    conf(['--config-file', spec['conf']], project='migrator',
         prog='migrator-volume', default_config_files=[])
    logging.setup(conf, 'migrator')
    rpc.init(conf)

    poll_times = []
    real_poll = progress.ProgressPoller.poll

    def timed_poll(self):
        wall, cpu = time.perf_counter(), time.thread_time()
        real_poll(self)
        poll_times.append((time.perf_counter() - wall,
                           time.thread_time() - cpu))

    progress.ProgressPoller.poll = timed_poll

    class Reporter:
        """Stands for the conductor's RPC API."""

        def __init__(self):
            self.progress = []
            self.finished = []

        def copy_progress(self, ctxt, migration_id, bytes_done, total):
            self.progress.append((time.monotonic(), bytes_done))

        def copy_finished(self, ctxt, migration_id, bytes_done, total,
                          error=None):
            self.finished.append((bytes_done, error))

    backends = mbackends.load_backends(conf)
    size = spec['size']
    if spec['kind'] == 'file':
        src_loc = {'driver_volume_type': 'file',
                   'data': {'path': os.path.join(
                       backends['src'].directory,
                       'volume-' + spec['src_id'])}}
    else:
        src_loc = backends['src'].create_volume(spec['src_id'],
                                                spec['src_size'])
    dst_loc = backends['dst'].create_volume(str(uuid_mod.uuid4()), size)
    dst_path = backends['dst'].local_path(dst_loc)
    reporter = Reporter()
    job = copy_job.CopyJob(
        context.get_admin_context(), conf, backends, reporter,
        notifications.VolumeNotifier(conf.host), 'bench-' + spec['src_id'],
        spec['src_id'], src_loc, 'dst', dst_loc, size)
    samples = []
    stop = threading.Event()

    def sample():
        # What the rate was over time, for the throttle figures.
        while not stop.wait(0.25):
            copier = job._copier
            if copier is not None:
                samples.append((time.monotonic(), copier.bytes_done))

    rss_before = _vm_status('VmRSS')
    usage = resource.getrusage(resource.RUSAGE_SELF)
    # Only the throttled copies are sampled (polling has a cost).
    sampler = threading.Thread(target=sample, daemon=True)
    if spec['sample']:
        sampler.start()
    started = time.monotonic()
    job.run()
    elapsed = time.monotonic() - started
    stop.set()
    if spec['sample']:
        sampler.join()
    after = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    copier = job._copier
    report = {
        'state': job.state, 'error': job.error, 'seconds': elapsed,
        'started': started, 'size': size, 'dst_path': dst_path,
        'copier': type(copier).__name__ if copier else None,
        'in_flight': getattr(copier, 'in_flight', None),
        'chunk_size': getattr(copier, 'chunk_size', None),
        'peak_buffer_bytes': getattr(copier, 'peak_buffer_bytes', None),
        'rss_before_bytes': rss_before,
        'peak_rss_bytes': _vm_status('VmHWM'),
        'children_peak_rss_bytes': children.ru_maxrss * 1024,
        'cpu_seconds': (after.ru_utime - usage.ru_utime + after.ru_stime
                        - usage.ru_stime + children.ru_utime
                        + children.ru_stime),
        'progress': reporter.progress, 'samples': samples,
        'polls': poll_times, 'finished': reporter.finished,
    }
    rpc.cleanup()
    print(json.dumps(report))
    return 0


def _vm_status(key):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1]) * 1024
    return None


# The scenarios -----------------------------------------------------------

class Bench:

    def __init__(self, args):
        self.args = args
        self.dir = args.dir
        self.loops = []
        self.results = {'runs': [], 'throttle': []}
        self.drop = args.drop_caches

    def losetup(self, backing):
        out = subprocess.run(['losetup', '-f', '--show', '--direct-io=on',
                              backing], check=True, capture_output=True,
                             text=True).stdout.strip()
        self.loops.append(out)
        return out

    def cleanup(self):
        for dev in reversed(self.loops):
            subprocess.run(['losetup', '-d', dev], check=False)
        self.loops = []
        if not self.args.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def order(self, contenders, round_no):
        """Alternate: even rounds rotate the list by the round number,
        odd rounds run the previous round's order backwards (so that
        whoever ran first runs last)."""
        contenders = list(contenders)
        k = (round_no - round_no % 2) % len(contenders)
        order = contenders[k:] + contenders[:k]
        return order[::-1] if round_no % 2 else order

    def prepare(self):
        a = self.args
        os.makedirs(self.dir, exist_ok=True)
        need = (2 * a.dense_size + 2 * a.sparse_size * a.sparse_fraction
                + a.sparse_size + 2 * a.block_size + GiB)
        free = shutil.disk_usage(self.dir).free
        if free < need:
            raise BenchError('%s has %s free, the benchmark needs about %s'
                             % (self.dir, fmt_size(free), fmt_size(need)))
        log('Preparing volumes in %s (%s free)', self.dir, fmt_size(free))
        self.dense = self.path('dense.raw')
        fresh_file(self.dense, a.dense_size)
        write_ranges(self.dense, [(0, a.dense_size)], 'dense')
        self.sparse = self.path('sparse.raw')
        fresh_file(self.sparse, a.sparse_size)
        layout = sparse_layout(a.sparse_size, a.sparse_fraction)
        write_ranges(self.sparse, layout, 'sparse')
        self.sparse_layout = layout
        self.block_src_file = self.path('block-src.img')
        self.block_dst_file = self.path('block-dst.img')
        fresh_file(self.block_src_file, a.block_size)
        fresh_file(self.block_dst_file, a.block_size)
        self.block_src = self.losetup(self.block_src_file)
        self.block_dst = self.losetup(self.block_dst_file)
        subprocess.run(['dd', 'if=%s' % self.dense, 'of=%s' % self.block_src,
                        'bs=4M', 'count=%d' % (a.block_size // (4 * MiB)),
                        'iflag=direct', 'oflag=direct', 'status=none'],
                       check=True)
        fsync_path(self.block_src)
        log('dense %s; sparse %s with %d extents, %s of data (%.1f%%), '
            'first at %s, last ending %s before the end; block pair %s, '
            '%s of %s', fmt_size(a.dense_size), fmt_size(a.sparse_size),
            len(layout), fmt_size(sum(n for _o, n in layout)),
            100.0 * sum(n for _o, n in layout) / a.sparse_size,
            fmt_size(layout[0][0]),
            fmt_size(a.sparse_size - layout[-1][0] - layout[-1][1]),
            self.block_src, self.block_dst, fmt_size(a.block_size))
        log('Reading the sources for their digests')
        self.refs = {
            'dense': Reference(self.dense, a.dense_size),
            'sparse': Reference(self.sparse, a.sparse_size),
            'block': Reference(self.block_src, a.block_size),
        }
        self.dst_dir = self.path('dst')
        os.makedirs(self.dst_dir, exist_ok=True)

    def dirty_block_dst(self, seed):
        """Discard the destination device, then write garbage at
        scattered places: stale data of an earlier volume."""
        from migrator_volume import fsutils
        size = self.args.block_size
        fd = os.open(self.block_dst, os.O_WRONLY)
        try:
            fsutils.punch_hole(fd, 0, size)
            rnd = random.Random(seed)
            blob = (GARBAGE * (MiB // len(GARBAGE) + 1))[:MiB]
            for _ in range(32):
                offset = rnd.randrange(size // MiB) * MiB
                os.pwrite(fd, blob, offset)
            os.fsync(fd)
        finally:
            os.close(fd)

    def one_copy(self, volume, contender, round_no):
        a = self.args
        if volume == 'block':
            src, size = self.block_src, a.block_size
            self.dirty_block_dst(round_no * 101 + len(contender))
        else:
            src = self.dense if volume == 'dense' else self.sparse
            size = a.dense_size if volume == 'dense' else a.sparse_size
        dst = None
        drop_caches(self.drop)
        if contender.startswith('migrator'):
            poll = contender == 'migrator'
            if volume == 'block':
                report = run_worker(self.dir, 'block', self.block_src,
                                    self.block_dst, size, poll=poll,
                                    extra_opts=self.args.worker_opts)
            else:
                report = run_worker(self.dir, 'file', src, self.dst_dir,
                                    size, poll=poll,
                                    extra_opts=self.args.worker_opts)
            dst = report.pop('dst_path')
            polls = report['polls']
            result = {
                'seconds': report['seconds'],
                'cpu_seconds': report['cpu_seconds'],
                'peak_rss_bytes': report['peak_rss_bytes'],
                'rss_before_bytes': report['rss_before_bytes'],
                'children_peak_rss_bytes': report['children_peak_rss_bytes'],
                'peak_buffer_bytes': report['peak_buffer_bytes'],
                'copier': report['copier'], 'in_flight': report['in_flight'],
                'progress_reports': len(report['progress']),
                'polls': len(polls),
                'poll_seconds_mean': (statistics.mean(p[0] for p in polls)
                                      if polls else None),
                'poll_cpu_seconds_mean': (statistics.mean(p[1] for p in polls)
                                          if polls else None),
            }
            state_dir = report['state_dir']
        else:
            if volume == 'block':
                dst = self.block_dst
            else:
                dst = os.path.join(self.dst_dir, '%s-%s.raw'
                                   % (contender, volume))
                fresh_file(dst, size)
            result = run_peer(contender, src, dst, size)
            state_dir = None
        result.update({'volume': volume, 'contender': contender,
                       'round': round_no, 'size': size,
                       'mb_per_s': mbps(size, result['seconds'])})
        if volume != 'block':
            result['dst_allocated_bytes'] = allocated(dst)
        verified = self.refs[volume].verify(dst)
        result['verified_bytes'] = verified
        if volume != 'block':
            os.unlink(dst)
        if state_dir:
            shutil.rmtree(state_dir, ignore_errors=True)
        extra = ''
        if 'peak_rss_bytes' in result:
            extra = ', worker peak RSS %.1f MiB' % (
                result['peak_rss_bytes'] / MiB)
        if 'dst_allocated_bytes' in result:
            extra += ', destination allocates %s' % fmt_size(
                result['dst_allocated_bytes'])
        log('  %-6s %-16s %7.2f s %8.1f MB/s%s (verified)', volume,
            contender, result['seconds'], result['mb_per_s'], extra)
        self.results['runs'].append(result)
        return result

    def throttled(self, path, round_no):
        a = self.args
        limit = a.throttle_limit
        size = min(int(limit * a.throttle_seconds) // MiB * MiB,
                   a.dense_size, a.block_size)
        drop_caches(self.drop)
        if path == 'dd':
            self.dirty_block_dst(round_no + 7)
            report = run_worker(self.dir, 'block', self.block_src,
                                self.block_dst, size, limit=limit,
                                extra_opts=self.args.worker_opts)
            ref = self.refs['block']
        else:
            report = run_worker(self.dir, 'file', self.dense, self.dst_dir,
                                size, limit=limit,
                                extra_opts=self.args.worker_opts)
            ref = self.refs['dense']
        dst = report['dst_path']
        _verify_prefix(ref.path, dst, size)
        if path != 'dd':
            os.unlink(dst)
        shutil.rmtree(report['state_dir'], ignore_errors=True)
        rate = size / report['seconds']
        # Rates over windows of about a second, from the samples.
        windows = []
        samples = [(report['started'], 0)] + report['samples']
        j = 0
        for i in range(1, len(samples)):
            while samples[i][0] - samples[j + 1][0] >= 1.0:
                j += 1
            t0, b0 = samples[j]
            t1, b1 = samples[i]
            if t1 - t0 >= 1.0:
                windows.append((b1 - b0) / (t1 - t0))
        result = {
            'path': path, 'round': round_no, 'limit_bytes_per_s': limit,
            'size': size, 'seconds': report['seconds'],
            'rate_bytes_per_s': rate, 'ratio': rate / limit,
            'copier': report['copier'],
            'window_ratio_min': min(windows) / limit if windows else None,
            'window_ratio_max': max(windows) / limit if windows else None,
        }
        log('  throttle %-7s %s at %s/s: %.2f s, %.2f MB/s = %.3f of the '
            'limit (1 s windows %s to %s) (verified)', path,
            fmt_size(size), fmt_size(limit), report['seconds'], rate / 1e6,
            rate / limit,
            '%.3f' % result['window_ratio_min'] if windows else '-',
            '%.3f' % result['window_ratio_max'] if windows else '-')
        self.results['throttle'].append(result)

    def run(self):
        a = self.args
        scenarios = [
            ('dense', ['migrator', 'migrator-nopoll'] + list(PEERS)),
            ('sparse', ['migrator'] + list(PEERS)),
            ('block', ['migrator', 'migrator-nopoll'] + list(PEERS)),
        ]
        scenarios = [(v, c) for v, c in scenarios if v in a.volumes]
        for round_no in range(a.runs):
            log('Round %d of %d', round_no + 1, a.runs)
            for volume, contenders in scenarios:
                for contender in self.order(contenders, round_no):
                    self.one_copy(volume, contender, round_no)
        if a.throttle_limit:
            log('Throttle: volume_copy_bps_limit = %d', a.throttle_limit)
            for round_no in range(a.throttle_runs):
                for path in self.order(['fileio', 'dd'], round_no):
                    self.throttled(path, round_no)


def _verify_prefix(src, dst, size):
    ref = Reference.__new__(Reference)
    ref.path, ref.size = src, size
    fd = os.open(src, os.O_RDONLY)
    try:
        ref.data_chunks = _chunks_with_data(fd, size)
    finally:
        os.close(fd)
    ref.digests = _read_digests(src, size, ref.data_chunks)
    ref.verify(dst)


# Summary -----------------------------------------------------------------

def summarize(results, args):
    runs = results['runs']
    summary = {}
    for volume in sorted({r['volume'] for r in runs}):
        rows = {}
        for contender in sorted({r['contender'] for r in runs
                                 if r['volume'] == volume}):
            mine = [r for r in runs if r['volume'] == volume
                    and r['contender'] == contender]
            rows[contender] = {
                'runs': len(mine),
                'seconds_median': median([r['seconds'] for r in mine]),
                'mb_per_s_median': median([r['mb_per_s'] for r in mine]),
                'mb_per_s_all': [round(r['mb_per_s'], 1) for r in mine],
                'cpu_seconds_median': median([r['cpu_seconds']
                                              for r in mine]),
            }
            if 'dst_allocated_bytes' in mine[0]:
                rows[contender]['dst_allocated_bytes'] = max(
                    r['dst_allocated_bytes'] for r in mine)
            if 'peak_rss_bytes' in mine[0]:
                rows[contender]['peak_rss_bytes_max'] = max(
                    r['peak_rss_bytes'] for r in mine)
        ours = rows.get('migrator')
        peers = {p: rows[p] for p in PEERS if p in rows}
        if ours and peers:
            best = max(peers, key=lambda p: peers[p]['mb_per_s_median'])
            info = {'best_peer': best}
            for name in list(peers) + ['migrator-nopoll']:
                if name in rows:
                    info['vs_' + name] = (ours['mb_per_s_median']
                                          / rows[name]['mb_per_s_median'])
            info['vs_best_peer'] = (ours['mb_per_s_median']
                                    / peers[best]['mb_per_s_median'])
            # The same, round by round (less sensitive to drift).
            per_round = []
            for round_no in sorted({r['round'] for r in runs}):
                this = {r['contender']: r for r in runs
                        if r['volume'] == volume and r['round'] == round_no}
                if 'migrator' in this and all(p in this for p in peers):
                    best_here = max(this[p]['mb_per_s'] for p in peers)
                    per_round.append(this['migrator']['mb_per_s']
                                     / best_here)
            info['vs_best_peer_per_round_median'] = median(per_round)
            rows['ratios'] = info
        summary[volume] = rows
    mine = [r for r in runs if r['contender'].startswith('migrator')]
    polls = [r for r in runs if r['contender'] == 'migrator'
             and r['poll_seconds_mean'] is not None]
    summary['worker'] = {
        'peak_rss_bytes_max': max((r['peak_rss_bytes'] for r in mine),
                                  default=None),
        'rss_before_copy_bytes_max': max((r['rss_before_bytes']
                                          for r in mine), default=None),
        # ru_maxrss of the worker's children: the dd processes, but
        # counting the pages they shared with the worker before exec.
        'children_peak_rss_bytes_max': max(
            (r['children_peak_rss_bytes'] for r in mine
             if r['volume'] == 'block'), default=None),
        'buffer_bytes_max': max((r['peak_buffer_bytes'] or 0
                                 for r in mine), default=None),
        'poll_seconds_mean': (statistics.mean(r['poll_seconds_mean']
                                              for r in polls)
                              if polls else None),
        'poll_cpu_seconds_mean': (statistics.mean(
            r['poll_cpu_seconds_mean'] for r in polls) if polls else None),
        'polls': sum(r['polls'] for r in polls),
    }
    w = summary['worker']
    if w['poll_seconds_mean'] is not None:
        w['poll_cost_fraction'] = w['poll_seconds_mean'] / POLL_INTERVAL
    thr = results['throttle']
    summary['throttle'] = {}
    for path in sorted({t['path'] for t in thr}):
        mine_t = [t for t in thr if t['path'] == path]
        summary['throttle'][path] = {
            'ratios': [round(t['ratio'], 4) for t in mine_t],
            'ratio_median': median([t['ratio'] for t in mine_t]),
            'window_ratio_min': min((t['window_ratio_min'] for t in mine_t
                                     if t['window_ratio_min'] is not None),
                                    default=None),
            'window_ratio_max': max((t['window_ratio_max'] for t in mine_t
                                     if t['window_ratio_max'] is not None),
                                    default=None),
        }
    return summary


def targets(summary, args):
    """[(name, passed, detail)]"""
    out = []
    for volume in ('dense', 'block'):
        ratios = summary.get(volume, {}).get('ratios')
        if ratios:
            out.append(('%s copy >= 0.95 of the fastest peer (%s)'
                        % (volume, ratios['best_peer']),
                        ratios['vs_best_peer'] >= 0.95,
                        '%.3f (per-round median %.3f)'
                        % (ratios['vs_best_peer'],
                           ratios['vs_best_peer_per_round_median'])))
    sparse = summary.get('sparse')
    if sparse and 'ratios' in sparse:
        ours = sparse['migrator']['seconds_median']
        if 'qemu-img' in sparse:
            q = sparse['qemu-img']['seconds_median']
            out.append(('sparse copy takes no more time than qemu-img',
                        ours <= q, '%.2f s vs %.2f s' % (ours, q)))
        if 'dd' in sparse:
            d = sparse['dd']['seconds_median']
            out.append(('sparse copy >= 5x faster than dd', d / ours >= 5,
                        '%.1fx (%.2f s vs %.2f s)' % (d / ours, ours, d)))
    w = summary['worker']
    if w['peak_rss_bytes_max'] is not None:
        out.append(('worker peak RSS < 100 MiB',
                    w['peak_rss_bytes_max'] < RSS_LIMIT,
                    '%.1f MiB' % (w['peak_rss_bytes_max'] / MiB)))
    if w.get('poll_cost_fraction') is not None:
        measured = [summary[v]['ratios'].get('vs_migrator-nopoll')
                    for v in ('dense', 'block')
                    if v in summary and 'ratios' in summary[v]]
        out.append(('progress polling every second costs < 1%',
                    w['poll_cost_fraction'] < 0.01,
                    '%.4f%% of the time per poll; measured throughput with '
                    '/ without polling: %s (noise of this disk: several %%)'
                    % (100 * w['poll_cost_fraction'],
                       ', '.join('%.3f' % m for m in measured if m))))
    for path, t in sorted(summary['throttle'].items()):
        ok = all(0.9 <= r <= 1.1 for r in t['ratios'])
        out.append(('throttled %s rate within 10%% of the limit' % path, ok,
                    'rate/limit %s' % ', '.join('%.3f' % r
                                                for r in t['ratios'])))
    return out


def print_summary(summary, checks):
    print()
    print('Results (medians of each contender\'s rounds)')
    for volume in ('dense', 'sparse', 'block'):
        rows = summary.get(volume)
        if not rows:
            continue
        print('  %s' % volume)
        for name in ['migrator', 'migrator-nopoll'] + list(PEERS):
            if name not in rows:
                continue
            r = rows[name]
            line = '    %-16s %7.2f s %8.1f MB/s  cpu %5.2f s  runs %s' % (
                name, r['seconds_median'], r['mb_per_s_median'],
                r['cpu_seconds_median'],
                '/'.join('%.0f' % x for x in r['mb_per_s_all']))
            if 'dst_allocated_bytes' in r:
                line += '  dst allocates %s' % fmt_size(
                    r['dst_allocated_bytes'])
            if 'peak_rss_bytes_max' in r:
                line += '  peak RSS %.1f MiB' % (r['peak_rss_bytes_max']
                                                 / MiB)
            print(line)
        ratios = rows.get('ratios')
        if ratios:
            print('    migrator / dd %.3f, / qemu-img %.3f, / cp %.3f, '
                  '/ best peer (%s) %.3f (per round %.3f)%s' % (
                      ratios.get('vs_dd', float('nan')),
                      ratios.get('vs_qemu-img', float('nan')),
                      ratios.get('vs_cp', float('nan')),
                      ratios['best_peer'], ratios['vs_best_peer'],
                      ratios['vs_best_peer_per_round_median'],
                      ', / without polling %.3f' % ratios['vs_migrator-nopoll']
                      if 'vs_migrator-nopoll' in ratios else ''))
    w = summary['worker']
    if w['peak_rss_bytes_max'] is not None:
        print('  worker: peak RSS %.1f MiB (%.1f MiB before the copy), I/O '
              'buffers %.1f MiB at most' % (
                  w['peak_rss_bytes_max'] / MiB,
                  w['rss_before_copy_bytes_max'] / MiB,
                  (w['buffer_bytes_max'] or 0) / MiB))
    if w.get('poll_seconds_mean') is not None:
        print('  progress poll: %.3f ms wall, %.3f ms CPU each, every %d s '
              '(%d polls)' % (w['poll_seconds_mean'] * 1e3,
                              w['poll_cpu_seconds_mean'] * 1e3,
                              POLL_INTERVAL, w['polls']))
    for path, t in sorted(summary['throttle'].items()):
        print('  throttle %-7s rate/limit %s (1 s windows %s to %s)' % (
            path, ', '.join('%.3f' % r for r in t['ratios']),
            '%.3f' % t['window_ratio_min']
            if t['window_ratio_min'] is not None else '-',
            '%.3f' % t['window_ratio_max']
            if t['window_ratio_max'] is not None else '-'))
    print()
    print('Targets')
    for name, ok, detail in checks:
        print('  %-4s %s: %s' % ('PASS' if ok else 'FAIL', name, detail))


def parse_args(argv):
    p = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent(__doc__.split('\n\n', 1)[1]))
    p.add_argument('--dir', help='work directory, on the disk to measure '
                   '(default: a new directory under /var/tmp)')
    p.add_argument('--runs', type=int, default=3,
                   help='rounds of every copy (medians; default 3)')
    p.add_argument('--dense-size', type=parse_size, default=2 * GiB)
    p.add_argument('--sparse-size', type=parse_size, default=8 * GiB)
    p.add_argument('--sparse-fraction', type=float, default=0.10)
    p.add_argument('--block-size', type=parse_size, default=2 * GiB)
    p.add_argument('--volumes', default='dense,sparse,block',
                   help='comma-separated subset of dense,sparse,block')
    p.add_argument('--throttle-limit', type=parse_size, default=50 * 10 ** 6,
                   help='volume_copy_bps_limit of the throttle runs, bytes '
                        'per second (0: skip them; default 50 MB/s)')
    p.add_argument('--throttle-seconds', type=float, default=4.0,
                   help='length of each throttled copy at the limit')
    p.add_argument('--throttle-runs', type=int, default=2)
    p.add_argument('--worker-opt', action='append', default=[],
                   metavar='NAME=VALUE',
                   help='a [volume] option of the worker, e.g. '
                        'volume_copy_in_flight=8 (repeatable)')
    p.add_argument('--no-drop-caches', dest='drop_caches',
                   action='store_false',
                   help='do not drop the page caches before each copy')
    p.add_argument('--keep', action='store_true',
                   help='keep the work directory')
    p.add_argument('--json', help='write the figures to this file')
    args = p.parse_args(argv)
    args.volumes = set(v.strip() for v in args.volumes.split(',') if v)
    args.worker_opts = dict(o.split('=', 1) for o in args.worker_opt)
    if args.dense_size % MiB or args.block_size % (4 * MiB) \
            or args.sparse_size % MiB:
        p.error('sizes must be whole MiB (the block size a multiple of '
                '4 MiB)')
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ['--worker']:
        return worker_main(json.loads(argv[1]))
    args = parse_args(argv)
    if os.geteuid() != 0:
        print('bench_copy needs root (loop devices, drop_caches)',
              file=sys.stderr)
        return 2
    for tool in ('dd', 'qemu-img', 'cp', 'losetup', 'openssl'):
        if shutil.which(tool) is None:
            print('bench_copy needs %s' % tool, file=sys.stderr)
            return 2
    if args.dir is None:
        args.dir = tempfile.mkdtemp(prefix='migrator-bench-copy-',
                                    dir='/var/tmp')
    else:
        args.dir = os.path.join(os.path.abspath(args.dir),
                                'bench-copy-%d' % os.getpid())
    bench = Bench(args)

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    started = time.monotonic()
    status = 0
    try:
        bench.prepare()
        bench.run()
    except BenchError as e:
        log('ERROR: %s', e)
        status = 2
    finally:
        bench.cleanup()
    summary = summarize(bench.results, args) if bench.results['runs'] or \
        bench.results['throttle'] else {}
    checks = targets(summary, args) if summary else []
    if summary:
        print_summary(summary, checks)
    if status == 0 and not all(ok for _n, ok, _d in checks):
        status = 1
    log('Done in %.0f s', time.monotonic() - started)
    if args.json:
        doc = {
            'benchmark': 'bench_copy', 'status': status,
            'date': datetime.datetime.now(datetime.timezone.utc).isoformat(),
            'host': {'kernel': platform.release(), 'cpus': os.cpu_count(),
                     'python': platform.python_version()},
            'settings': {k: (sorted(v) if isinstance(v, set) else v)
                         for k, v in vars(args).items()},
            'sparse_extents': len(getattr(bench, 'sparse_layout', [])),
            'summary': summary,
            'targets': [{'name': n, 'passed': ok, 'detail': d}
                        for n, ok, d in checks],
            'runs': bench.results['runs'],
            'throttle': bench.results['throttle'],
            'seconds': time.monotonic() - started,
        }
        with open(args.json, 'w') as f:
            json.dump(doc, f, indent=1, sort_keys=True)
        log('Figures written to %s', args.json)
    return status


if __name__ == '__main__':
    sys.exit(main())
