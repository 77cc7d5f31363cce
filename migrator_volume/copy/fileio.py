"""In-process copy for every copy that involves a file (and the writer
side of the copy from another host's volume: copy.nbdio).

Several requests in flight: the calling thread walks the source and
hands pieces of work to ``in_flight`` worker threads, each with one
page-aligned buffer of ``chunk_size`` bytes; they read and write with
``preadv``/``pwrite`` (which release the GIL), O_DIRECT where both the
I/O and the descriptor allow it (the page cache is no help to a
one-pass copy, and a single request at a time does not reach what the
disk can do).  Memory is ``in_flight * chunk_size`` whatever the size
of the volume: the walk is lazy and the queue of work is bounded.

Sparse-aware: the source's data ranges are found with SEEK_DATA /
SEEK_HOLE and only they are read.  What the source does not hold (its
holes, and all-zero grains of its data) is made to read as zeroes on
the destination without writing data where the destination allows it:
a hole punched in a destination file (so that it stays sparse, and a
dirty file left by an earlier attempt is cleaned), on a block device a
discard that guarantees zeroes (``fallocate`` PUNCH_HOLE, a hole in a
loop device's backing file), else BLKZEROOUT, else written zeroes.  A
block device known to read as zeroes (``dst_zeroed``) is left alone
there; one that is not never keeps stale data.

The destination is fsynced before run() returns.  Progress is the
number of bytes of the volume done (copied, or made zero), which grows
out of order as the requests complete.  The walk hands out its tasks in
the order of the volume, so the start of the lowest task not done is
the copy's watermark (copy.watermark); a copy resumed from a watermark
walks from there, and its holes stay holes.
"""

import contextlib
import errno
import os
import queue
import stat
import threading

from oslo_log import log as logging

from migrator_api.common import exception
from migrator_volume.copy import base
from migrator_volume import fsutils

LOG = logging.getLogger(__name__)

#: Largest range zeroed or punched at once (bounds cancel latency).
HOLE_PIECE = 64 * 1024 * 1024
#: Granularity of the zero detection within the source's data.
ZERO_GRAIN = fsutils.ZERO_CHECK_MAX
#: Alignment of O_DIRECT offsets, lengths and buffers.
ALIGN = 4096
#: Seconds between two checks for cancellation while the queue is full.
QUEUE_STEP = 0.1

_DATA = 'data'
_HOLE = 'hole'


class FileIOCopier(base.Copier):
    """:param chunk_size: bytes one request moves (its buffer's size).
    :param in_flight: requests (threads, buffers) in flight at once.
    """

    def __init__(self, src, dst, size, chunk_size=4 * 1024 * 1024,
                 in_flight=8, **kw):
        super().__init__(src, dst, size, **kw)
        self.chunk_size = max(ALIGN, chunk_size // ALIGN * ALIGN)
        self.in_flight = max(1, int(in_flight))
        self._done = self.resume_from
        self._done_lock = threading.Lock()
        self._can_punch = True
        self._can_zero_out = True
        self._error = None
        self._abort = threading.Event()
        #: Bytes of I/O buffers allocated by the running copy (at most
        #: in_flight * chunk_size); for tests and benchmarks.
        self.buffer_bytes = 0
        self.peak_buffer_bytes = 0

    @property
    def bytes_done(self):
        return self._done

    def run(self):
        try:
            with contextlib.ExitStack() as stack:
                self._open_source(stack)
                self._dst, self._dst_direct = self._open(
                    stack, self.dst, os.O_WRONLY)
                self._copy()
        except OSError as e:
            raise exception.CopyFailed(
                reason='%s to %s: %s' % (self.src, self.dst, e))

    # The source: what a copier reading elsewhere replaces (nbdio) -----

    def _open_source(self, stack):
        """Open the source for the copy (closed with ``stack``)."""
        self._src, self._src_direct = self._open(stack, self.src,
                                                 os.O_RDONLY)

    def _source_size(self):
        return os.lseek(self._src, 0, os.SEEK_END)

    def _data_extents(self, start, end):
        """The (start, end) of the source's ranges that may hold data,
        in order; what lies between reads as zeroes."""
        return fsutils.data_extents(self._src, start, end)

    def _source_reader(self, stack):
        """``read(view, offset)`` for one worker thread, which fills
        ``view`` from the source at ``offset``."""
        return self._read

    @staticmethod
    def _open(stack, path, flags):
        """A buffered fd and, where supported, an O_DIRECT one."""
        fd = os.open(path, flags | os.O_CLOEXEC)
        stack.callback(os.close, fd)
        try:
            direct = os.open(path, flags | os.O_CLOEXEC | os.O_DIRECT)
        except OSError as e:
            if e.errno != errno.EINVAL:
                raise
            return fd, None
        stack.callback(os.close, direct)
        return fd, direct

    # The walk (calling thread) ---------------------------------------

    def _copy(self):
        dst_fd = self._dst
        self.check_source_size(self._source_size())
        self.fit_destination(dst_fd)
        self._dst_is_file = stat.S_ISREG(os.fstat(dst_fd).st_mode)
        self._sector = (1 if self._dst_is_file
                        else fsutils.sector_size(dst_fd))
        self._piece = self.throttle.piece_size(self.chunk_size, ALIGN)
        self.begin(ALIGN, lambda: os.fdatasync(dst_fd))
        self._done = self.resume_from
        finished = False
        try:
            self._walk()
            finished = True
        finally:
            self.end(finished)
        LOG.debug('Copied %s to %s: %d bytes from %d, %d in flight of %d '
                  'bytes, O_DIRECT out %s', self.src, self.dst, self.size,
                  self.resume_from, self.in_flight, self._piece,
                  self._dst_direct is not None)

    def _walk(self):
        dst_fd = self._dst
        work = queue.Queue(maxsize=2 * self.in_flight)
        workers = [threading.Thread(target=self._worker, args=(work,),
                                    name='copy-%s-%d' % (self.label, i),
                                    daemon=True)
                   for i in range(self.in_flight)]
        for worker in workers:
            worker.start()
        try:
            for task in self._plan(self.resume_from):
                _kind, offset, length = task
                self.reserve(offset + length)
                self.watermark.issue(offset, offset + length)
                if not self._put(work, task):
                    break
        finally:
            # Every worker drains the queue until its None.
            for _worker in workers:
                work.put(None)
            for worker in workers:
                worker.join()
        if self._error is not None:
            raise self._error
        self.check_cancelled()
        os.fsync(dst_fd)

    def _put(self, work, task):
        """Queue a task; False once the copy stops (error, cancel)."""
        while True:
            if self._abort.is_set() or self._cancelled.is_set():
                return False
            try:
                work.put(task, timeout=QUEUE_STEP)
                return True
            except queue.Full:
                pass

    def _plan(self, offset=0):
        """The tasks of the copy from ``offset`` on, in the order of the
        volume: each data range of the source in pieces, each hole
        between them."""
        for start, end in self._data_extents(offset, self.size):
            yield from self._holes(offset, start)
            while start < end:
                n = min(self._piece, end - start)
                yield _DATA, start, n
                start += n
            offset = end
        yield from self._holes(offset, self.size)

    def _holes(self, start, end):
        while start < end:
            n = min(HOLE_PIECE, end - start)
            yield _HOLE, start, n
            start += n

    # The workers ------------------------------------------------------

    def _worker(self, work):
        # The buffer is released after the reader is closed (the stack
        # unwinds in reverse), whose reads may still hold it.
        with contextlib.ExitStack() as stack:
            self._work(work, stack)

    def _work(self, work, stack):
        buf = view = read = None
        while True:
            task = work.get()
            if task is None:
                return
            if self._abort.is_set() or self._cancelled.is_set():
                continue
            kind, offset, length = task
            try:
                if kind == _HOLE:
                    self._zero_range(offset, length)
                else:
                    if buf is None:
                        buf, view = self._buffer(stack)
                    if read is None:
                        read = self._source_reader(stack)
                    self._copy_data(buf, view, offset, length, read)
                self._add_done(length)
                self.watermark.complete(offset)
            except Exception as e:
                self._fail(e, offset)

    def _buffer(self, stack):
        """A worker's aligned buffer, released with ``stack``."""
        size = self._piece
        buf = fsutils.aligned_buffer(size)
        view = memoryview(buf)
        self._count_buffer(size)

        def release():
            view.release()
            buf.close()
            self._count_buffer(-size)
        stack.callback(release)
        return buf, view

    @staticmethod
    def _source_error(error):
        """The error of a read of the source, as an OSError or a
        MigratorException when the source's own errors are neither."""
        return error

    def _count_buffer(self, n):
        with self._done_lock:
            self.buffer_bytes += n
            self.peak_buffer_bytes = max(self.peak_buffer_bytes,
                                         self.buffer_bytes)

    def _add_done(self, n):
        with self._done_lock:
            self._done += n

    def _fail(self, error, offset):
        error = self._source_error(error)
        if isinstance(error, OSError):
            error = exception.CopyFailed(
                reason='%s to %s at offset %d: %s'
                       % (self.src, self.dst, offset, error))
        elif not isinstance(error, exception.MigratorException):
            LOG.exception('Copy %s failed at offset %d', self.label, offset)
            error = exception.CopyFailed(
                reason='%s to %s at offset %d: unexpected error %s'
                       % (self.src, self.dst, offset, error))
        with self._done_lock:
            if self._error is None:
                self._error = error
        self._abort.set()

    def _copy_data(self, buf, view, offset, length, read):
        """Copy one piece; its all-zero grains become zero ranges."""
        read(view[:length], offset)
        address = fsutils.buffer_address(buf)
        start = 0
        while start < length:
            zero = self._is_zero(address, start, length)
            end = start + ZERO_GRAIN
            while end < length and self._is_zero(address, end,
                                                 length) == zero:
                end += ZERO_GRAIN
            end = min(end, length)
            if zero:
                self._zero_range(offset + start, end - start)
            else:
                self.throttle.consume(end - start)
                self.check_cancelled()
                self._write(view[start:end], offset + start)
            start = end

    @staticmethod
    def _is_zero(address, start, length):
        return fsutils.is_zero(address + start,
                               min(ZERO_GRAIN, length - start))

    def _zero_range(self, offset, length):
        """Make a range of the destination read as zeroes."""
        if self._dst_is_file:
            self._punch(offset, length)
        elif not self.dst_zeroed:
            self._zero_block(offset, length)

    def _punch(self, offset, length):
        """File destination: a hole, so that it stays sparse (and a
        dirty destination left by an earlier attempt is cleaned)."""
        fd = self._dst
        if self._can_punch:
            if not fsutils.has_data(fd, offset, length):
                return                      # a hole already
            try:
                fsutils.punch_hole(fd, offset, length)
                return
            except OSError as e:
                if e.errno not in fsutils.UNSUPPORTED:
                    raise
                LOG.info('%s cannot punch holes (%s)', self.dst, e)
                self._can_punch = False
        if not self.dst_zeroed:
            self._write_zeroes(offset, length)

    def _zero_block(self, offset, length):
        """Block device destination: zeroed in place (the device may
        hold another volume's data), by discard where it guarantees
        zeroes, else BLKZEROOUT, else written zeroes."""
        fd = self._dst
        sector = self._sector
        start = -(-offset // sector) * sector
        end = (offset + length) // sector * sector
        # Fast ways first; each one the device refuses is not tried again.
        for flag, zero, throttled, what in (
                ('_can_punch', fsutils.punch_hole, False,
                 'discard with zeroes'),
                ('_can_zero_out', fsutils.zero_out, True, 'zero out')):
            if end <= start or not getattr(self, flag):
                continue
            if throttled:
                self.throttle.consume(end - start)
                self.check_cancelled()
            try:
                zero(fd, start, end - start)
            except OSError as e:
                if e.errno not in fsutils.UNSUPPORTED:
                    raise
                LOG.info('%s cannot %s (%s)', self.dst, what, e)
                setattr(self, flag, False)
                continue
            self._write_zeroes(offset, start - offset)
            self._write_zeroes(end, offset + length - end)
            return
        self._write_zeroes(offset, length)

    def _write_zeroes(self, offset, length):
        if length <= 0:
            return
        # An untouched anonymous mapping reads as zeroes and takes no
        # memory of its own.
        with fsutils.aligned_buffer(min(length, self._piece)) as zeroes:
            view = memoryview(zeroes)
            try:
                while length > 0:
                    n = min(length, len(zeroes))
                    self.throttle.consume(n)
                    self.check_cancelled()
                    self._write(view[:n], offset)
                    offset += n
                    length -= n
            finally:
                view.release()

    def _read(self, view, offset):
        fd = _pick(self._src, self._src_direct, offset, len(view))
        got = 0
        while got < len(view):
            n = os.preadv(fd, [view[got:]], offset + got)
            if n == 0:
                raise exception.CopyFailed(
                    reason='%s ended at offset %d' % (self.src, offset + got))
            got += n

    def _write(self, view, offset):
        fd = _pick(self._dst, self._dst_direct, offset, len(view))
        _pwrite_all(fd, view, offset)


def _pick(fd, direct_fd, offset, length):
    """The O_DIRECT fd when there is one and the I/O is aligned."""
    if direct_fd is not None and not (offset | length) % ALIGN:
        return direct_fd
    return fd


def _pwrite_all(fd, view, offset):
    done = 0
    while done < len(view):
        done += os.pwrite(fd, view[done:], offset + done)
