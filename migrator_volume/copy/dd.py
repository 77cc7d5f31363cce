"""Block device to block device copy with ``dd``.

O_DIRECT on both sides when both devices accept it, the block size of
``[volume] volume_dd_blocksize``.  One dd has a single request in
flight, which does not reach what a disk can do: the copy is cut into
segments and ``in_flight`` dd processes run at once, each on its own
segment, picking the next one when done.  dd copies the whole blocks;
a last partial block is copied in-process, then the destination is
fsynced.

Sparse: ``conv=sparse`` (dd seeks over all-zero blocks instead of
writing them) where the destination reads as zeroes, either because it
is known to (``dst_zeroed``) or because each segment was first
discarded with a zeroing that the device guarantees (``fallocate``
PUNCH_HOLE on the device: WRITE ZEROES with unmap, a hole in a loop
device's backing file).  A device that cannot do that gets every block
written: no stale data survives.

Progress is the sum, over the finished segments and the running dd
processes, of what they wrote: for a running dd, the ``pos:`` of its
descriptor of the destination in ``/proc/<pid>/fdinfo`` minus where its
segment starts.  With a bandwidth limit each dd runs on a piece of
about a tenth of a second of bandwidth, paid for before it starts.

Resume: the segments are handed out in the order of the volume, so the
copy's watermark (copy.watermark) is where the dd of the lowest
unfinished segment has got to; a copy resumed from a watermark starts
its segments there (rounded down to a whole block).  A dd killed by a
signal ends the copy with CopyInterrupted, which the job retries from
the watermark.  Each dd dies with the thread that runs it
(``setpriv --pdeathsig``): a worker killed leaves no dd writing.
"""

import os
import re
import shutil
import subprocess
import threading

from oslo_log import log as logging

from migrator_api.common import exception
from migrator_volume.copy import base
from migrator_volume import fsutils

LOG = logging.getLogger(__name__)

_UNITS = {'': 1, 'c': 1, 'w': 2, 'b': 512, 'k': 1024, 'K': 1024,
          'kB': 1000, 'KB': 1000, 'M': 1024 ** 2, 'MB': 1000 ** 2,
          'G': 1024 ** 3, 'GB': 1000 ** 3}
_SIZE_RE = re.compile(r'^\s*(\d+)\s*([A-Za-z]*)\s*$')
#: Seconds between two checks of a running dd for cancellation.
WAIT_STEP = 0.05
#: Largest segment one dd copies (unthrottled): small enough that the
#: dd processes finish together, large enough that starting them costs
#: nothing.
MAX_SEGMENT = 128 * 1024 * 1024


#: Runs each dd with a parent death signal (util-linux), when here.
_SETPRIV = shutil.which('setpriv')


def parse_blocksize(text):
    """Bytes of a dd block size such as ``512``, ``64K``, ``1M``."""
    match = _SIZE_RE.match(str(text))
    if not match or match.group(2) not in _UNITS or int(match.group(1)) <= 0:
        raise exception.InvalidInput(
            reason='%r is not a dd block size (such as 512, 64K, 1M)'
                   % (text,))
    return int(match.group(1)) * _UNITS[match.group(2)]


class DdCopier(base.Copier):
    """:param blocksize: dd's ``bs``.
    :param in_flight: dd processes running at once.
    """

    def __init__(self, src, dst, size, blocksize=1024 * 1024, in_flight=8,
                 **kw):
        super().__init__(src, dst, size, **kw)
        self.blocksize = blocksize
        self.in_flight = max(1, int(in_flight))
        self._lock = threading.Lock()
        self._done = self.resume_from   # bytes of the finished segments
        self._reported = self.resume_from   # bytes_done never goes back
        self._running = {}          # dd Popen: (first byte, length)
        self._fd_path = None
        self._error = None
        self._abort = threading.Event()
        self._segments = None
        self._issue_lock = threading.Lock()
        self._can_punch = not self.dst_zeroed

    @property
    def bytes_done(self):
        with self._lock:
            done = self._done
            running = list(self._running.items())
        for proc, (start, length) in running:
            if proc.poll() is None:
                pos = self._dd_position(proc.pid)
                if pos is not None:
                    done += min(max(pos - start, 0), length)
                    self.watermark.advance(start, pos)
        with self._lock:
            self._reported = max(self._reported, min(done, self.size))
            return self._reported

    def _dd_position(self, pid):
        """``pos:`` of dd's descriptor of the destination, if open yet."""
        try:
            for fd in os.listdir('/proc/%d/fd' % pid):
                if os.readlink('/proc/%d/fd/%s' % (pid, fd)) == self._fd_path:
                    with open('/proc/%d/fdinfo/%s' % (pid, fd)) as f:
                        for line in f:
                            if line.startswith('pos:'):
                                return int(line.split()[1])
        except OSError:
            pass        # dd just ended, or has not opened it yet
        return None

    def current_watermark(self):
        self.bytes_done         # where the running dd processes are
        return self.watermark.value

    def run(self):
        self._fd_path = os.path.realpath(self.dst)
        try:
            self._copy()
        except OSError as e:
            raise exception.CopyFailed(
                reason='%s to %s: %s' % (self.src, self.dst, e))

    def _copy(self):
        bs = self.blocksize
        with open(self.src, 'rb', buffering=0) as src, \
                open(self.dst, 'r+b', buffering=0) as dst:
            self.check_sizes(src.fileno(), dst.fileno())
            self._sector = fsutils.sector_size(dst.fileno())
            sector = max(fsutils.sector_size(src.fileno()), self._sector)
            direct = (bs % sector == 0
                      and fsutils.supports_direct_io(self.src, os.O_RDONLY)
                      and fsutils.supports_direct_io(self.dst, os.O_WRONLY))
            blocks = self.size // bs
            self.begin(bs, lambda: os.fdatasync(dst.fileno()))
            first = min(self.resume_from // bs, blocks)
            self._done = self._reported = first * bs
            finished = False
            try:
                self._run_all(dst.fileno(), first, blocks, direct)
                self._copy_tail(blocks * bs)
                finished = True
            finally:
                self.end(finished)

    def _run_all(self, dst_fd, first, blocks, direct):
        """Run the dd processes over blocks [first, blocks)."""
        bs = self.blocksize
        left = blocks - first
        if self.throttle.limited:
            step = self.throttle.piece_size(left * bs, bs) // bs
        else:
            per_dd = -(-left // self.in_flight)
            step = max(1, min(per_dd, MAX_SEGMENT // bs))
        self._segments = iter(range(first, blocks, step))
        LOG.debug('dd %s to %s: blocks %d to %d of %d bytes, %s, %d per '
                  'run, %d at once', self.src, self.dst, first, blocks, bs,
                  'O_DIRECT' if direct else 'buffered', step, self.in_flight)
        threads = [threading.Thread(
            target=self._worker, args=(dst_fd, blocks, step, direct),
            name='dd-%s-%d' % (self.label, i), daemon=True)
            for i in range(min(self.in_flight, -(-left // step)))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if self._error is not None:
            raise self._error

    def _next_segment(self, blocks, step):
        """The first block of the next segment, handed out in order."""
        bs = self.blocksize
        with self._issue_lock:
            first = next(self._segments, None)
            if first is not None:
                end = min(first + step, blocks) * bs
                self.reserve(end)
                self.watermark.issue(first * bs, end)
            return first

    def _worker(self, dst_fd, blocks, step, direct):
        bs = self.blocksize
        while not (self._abort.is_set() or self._cancelled.is_set()):
            first = self._next_segment(blocks, step)
            if first is None:
                return
            count = min(step, blocks - first)
            try:
                self.throttle.consume(count * bs)
                self.check_cancelled()
                sparse = self.dst_zeroed or self._discard(
                    dst_fd, first * bs, count * bs)
                if self._run_dd(first, count, direct, sparse):
                    self.watermark.complete(first * bs)
            except Exception as e:
                if isinstance(e, OSError):
                    e = exception.CopyFailed(
                        reason='%s to %s at offset %d: %s'
                               % (self.src, self.dst, first * bs, e))
                elif not isinstance(e, exception.MigratorException):
                    LOG.exception('dd copy %s failed', self.label)
                    e = exception.CopyFailed(
                        reason='%s to %s: unexpected error %s'
                               % (self.src, self.dst, e))
                with self._lock:
                    if self._error is None:
                        self._error = e
                self._abort.set()
                return

    def _discard(self, dst_fd, offset, length):
        """Make a segment of the destination read as zeroes without
        writing them; whether it could."""
        if not self._can_punch or (offset | length) % self._sector:
            return False
        try:
            fsutils.punch_hole(dst_fd, offset, length)
            return True
        except OSError as e:
            if e.errno not in fsutils.UNSUPPORTED:
                raise
            LOG.info('%s cannot discard with zeroes (%s): dd writes every '
                     'block', self.dst, e)
            self._can_punch = False
            return False

    def _run_dd(self, first, count, direct, sparse):
        """Run one dd over its segment; whether it copied all of it."""
        bs = self.blocksize
        cmd = ['dd', 'if=%s' % self.src, 'of=%s' % self.dst,
               'bs=%d' % bs, 'skip=%d' % first,
               'seek=%d' % first, 'count=%d' % count, 'status=none',
               'conv=notrunc' + (',sparse' if sparse else '')]
        if direct:
            cmd += ['iflag=direct', 'oflag=direct']
        if _SETPRIV:
            cmd = [_SETPRIV, '--pdeathsig', 'KILL', '--'] + cmd
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE,
                                env=dict(os.environ, LC_ALL='C'),
                                start_new_session=True)
        with self._lock:
            self._running[proc] = (first * bs, count * bs)
        try:
            while True:
                try:
                    proc.wait(WAIT_STEP)
                    break
                except subprocess.TimeoutExpired:
                    if self._cancelled.is_set() or self._abort.is_set():
                        proc.kill()
                        proc.wait()
                        self.check_cancelled()
                        return False
            err = proc.stderr.read().decode(errors='replace').strip()
        finally:
            proc.stderr.close()
            with self._lock:
                del self._running[proc]
                if proc.returncode == 0:
                    self._done += count * bs
        if proc.returncode < 0:
            raise base.CopyInterrupted(
                reason='dd copying blocks %d to %d was killed by signal %d'
                       % (first, first + count, -proc.returncode))
        if proc.returncode != 0:
            raise exception.CopyFailed(
                reason='dd exited with %d: %s' % (proc.returncode, err))
        return True

    def _copy_tail(self, offset):
        """The bytes after the last whole block, then fsync."""
        self.check_cancelled()
        length = self.size - offset
        if length:
            self.watermark.issue(offset, self.size)
        with open(self.src, 'rb', buffering=0) as src, \
                open(self.dst, 'r+b', buffering=0) as dst:
            if length:
                data = os.pread(src.fileno(), length, offset)
                if len(data) != length:
                    raise exception.CopyFailed(
                        reason='%s ended at offset %d'
                               % (self.src, offset + len(data)))
                self.throttle.consume(length)
                view = memoryview(data)
                while view:
                    written = os.pwrite(dst.fileno(), view, offset)
                    view, offset = view[written:], offset + written
            os.fsync(dst.fileno())
        if length:
            self.watermark.complete(offset)
        with self._lock:
            self._done = self.size
