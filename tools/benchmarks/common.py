"""What both benchmarks use: sizes, statistics, logging, targets, files,
pseudo-random data, CPU sampling and migrator's configuration."""

import argparse
import collections
import contextlib
import datetime
import os
import re
import shutil
import subprocess
import sys

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
_UNITS = {'': 1, 'K': KiB, 'M': MiB, 'G': GiB, 'T': 1024 * GiB}
_SIZE_RE = re.compile(r'^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$', re.I)


class BenchError(Exception):
    """The benchmark cannot go on (exit status 2)."""


def log(msg, *args, out=None):
    """A time-stamped line on ``out`` (standard error by default)."""
    stamp = datetime.datetime.now().strftime('%H:%M:%S')
    print('[%s] %s' % (stamp, msg % args if args else msg),
          file=out or sys.stderr, flush=True)


# -- sizes -------------------------------------------------------------------

def parse_size(text):
    """Bytes of ``512``, ``4K``, ``256M``, ``1.5GiB``, ``2 GB``... (a
    fraction needs a unit)."""
    m = _SIZE_RE.match(str(text))
    if not m or (not m.group(2) and '.' in m.group(1)):
        raise argparse.ArgumentTypeError('not a size: %r' % text)
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def parse_mib_size(text):
    """A size of whole MiB, more than zero."""
    size = parse_size(text)
    if size <= 0 or size % MiB:
        raise argparse.ArgumentTypeError('%r: sizes must be whole MiB'
                                         % text)
    return size


def short_size(size):
    """``256M``, ``4G``: a whole number of MiB as a label."""
    if size % GiB == 0:
        return '%dG' % (size // GiB)
    return '%dM' % (size // MiB)


def human_size(size):
    """``1.5 GiB``, ``102.44 MiB``, ``512 B``."""
    for unit, factor in (('GiB', GiB), ('MiB', MiB), ('KiB', KiB)):
        if size >= factor:
            return '%g %s' % (round(size / factor, 2), unit)
    return '%d B' % size


def mbps(nbytes, seconds):
    """MB/s (10^6 bytes a second)."""
    return nbytes / seconds / 1e6


# -- statistics --------------------------------------------------------------

def quantile(values, q):
    """Linear interpolation between closest ranks (numpy's default);
    None without values."""
    s = sorted(values)
    if not s:
        return None
    k = (len(s) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def median(values):
    return quantile(values, 0.5)


def summary(values):
    values = list(values)
    if not values:
        return {'n': 0}
    return {'n': len(values), 'median': quantile(values, 0.5),
            'p90': quantile(values, 0.9), 'p99': quantile(values, 0.99),
            'min': min(values), 'max': max(values),
            'mean': sum(values) / len(values)}


# -- targets -----------------------------------------------------------------

Target = collections.namedtuple('Target', 'name passed detail')


class Targets(list):
    """The benchmark's targets, each met or missed, with its detail."""

    def add(self, name, passed, detail):
        self.append(Target(name, bool(passed), detail))

    def all_met(self):
        return all(t.passed for t in self)

    def lines(self, line_format):
        """``line_format`` % (PASS or FAIL, name, detail) for each."""
        return [line_format % ('PASS' if t.passed else 'FAIL', t.name,
                               t.detail) for t in self]

    def as_json(self, name_key, passed_key):
        return [{name_key: t.name, passed_key: t.passed,
                 'detail': t.detail} for t in self]


# -- files -------------------------------------------------------------------

def fresh_file(path, size, sync=False):
    """A new sparse file of ``size`` reading as zeroes (what the file
    backend creates); ``sync``: made durable."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.ftruncate(fd, size)
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)


def check_free(directory, need):
    """Make ``directory``; it must have ``need`` bytes free (BenchError
    otherwise).  Returns the bytes free."""
    os.makedirs(directory, exist_ok=True)
    free = shutil.disk_usage(directory).free
    if free < need:
        raise BenchError('%s has %s free, the benchmark needs about %s'
                         % (directory, human_size(free), human_size(need)))
    return free


def evict(path):
    """Write the file back and drop its pages from the page cache (this
    file only)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


class Keystream:
    """Pseudo-random bytes at disk speed (AES-256-CTR of zeroes through
    openssl), read from a pipe; the same ``seed`` gives the same bytes,
    no seed fresh ones."""

    def __init__(self, seed=None):
        seed = os.urandom(16).hex() if seed is None else seed
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


# -- CPU time of a process's threads ---------------------------------------

CLK_TCK = os.sysconf('SC_CLK_TCK')
#: QEMU's vCPU threads ("CPU 0/KVM", "CPU 0/TCG").
VCPU_RE = re.compile(r'^CPU \d+/')


def _stat_ticks(path):
    with open(path) as f:
        rest = f.read().rsplit(')', 1)[1].split()
    return int(rest[11]) + int(rest[12])        # utime + stime


def cpu_sample(pid):
    """Per-thread CPU time of a process: {tid: (comm, schedstat ns,
    clock ticks)}, and the process's total ticks."""
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


def vcpu_ns(sample):
    """schedstat ns of the sample's vCPU threads."""
    return sum(ns for comm, ns, _t in sample['threads'].values()
               if VCPU_RE.match(comm))


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


# -- migrator's configuration ------------------------------------------------

def migrator_conf(argv=(), prog=None, log_options=False):
    """migrator's global configuration with its defaults, parsed from
    ``argv`` (no default configuration files)."""
    from migrator_api import conf as mconf
    from migrator_api.conf import opts as conf_opts
    conf = mconf.CONF
    if log_options:
        from oslo_log import log as logging
        logging.register_options(conf)
    conf_opts.set_defaults(conf)
    conf(list(argv), project='migrator', prog=prog,
         default_config_files=[])
    return conf
