"""In-process copy for every copy that involves a file.

Sparse-aware: the source's data ranges are found with SEEK_DATA /
SEEK_HOLE and only they are read.  What the source does not hold (its
holes, and all-zero chunks when the destination is a file) becomes a
hole of a file destination (punched, so a destination file stays
sparse) or is zeroed on a block device (BLKZEROOUT), unless the
destination is known to read as zeroes already, so no stale data
survives.  Aligned reads and writes use O_DIRECT where both sides
support it (the page cache is no help to a one-pass copy), the rest
goes through buffered descriptors; the destination is fsynced before
run() returns.  One fixed buffer is reused: memory does not grow with
the volume.  Progress is the current offset.
"""

import contextlib
import errno
import mmap
import os
import stat

from oslo_log import log as logging

from migrator_api.common import exception
from migrator_volume.copy import base
from migrator_volume import fsutils

LOG = logging.getLogger(__name__)

#: Largest range zeroed or punched at once (bounds cancel latency).
HOLE_PIECE = 64 * 1024 * 1024
#: Granularity of the zero detection when the destination is a file.
ZERO_GRAIN = fsutils.ZERO_CHECK_MAX
ALIGN = 4096


class FileIOCopier(base.Copier):

    def __init__(self, src, dst, size, chunk_size=4 * 1024 * 1024, **kw):
        super().__init__(src, dst, size, **kw)
        self.chunk_size = chunk_size
        self._offset = 0
        self._can_punch = True
        self._can_zero_out = True

    @property
    def bytes_done(self):
        return self._offset

    def run(self):
        try:
            with contextlib.ExitStack() as stack:
                self._src, self._src_direct = self._open(
                    stack, self.src, os.O_RDONLY)
                self._dst, self._dst_direct = self._open(
                    stack, self.dst, os.O_WRONLY)
                self._copy()
        except OSError as e:
            raise exception.CopyFailed(
                reason='%s to %s at offset %d: %s'
                       % (self.src, self.dst, self._offset, e))

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

    def _copy(self):
        src_fd, dst_fd = self._src, self._dst
        self.check_sizes(src_fd, dst_fd)
        dst_is_file = stat.S_ISREG(os.fstat(dst_fd).st_mode)
        self._zero_range = (self._punch if dst_is_file else self._zero_out)
        self._sector = 1 if dst_is_file else fsutils.sector_size(dst_fd)
        piece = self.throttle.piece_size(self.chunk_size, ALIGN)
        buf = mmap.mmap(-1, piece)      # page-aligned, as O_DIRECT needs
        self._buf_address = fsutils.buffer_address(buf)
        view = memoryview(buf)
        self._zeroes = bytes(piece)
        try:
            while self._offset < self.size:
                start, end = self._next_data(src_fd, self._offset)
                self._zero_until(dst_fd, start)
                while self._offset < end:
                    self.check_cancelled()
                    n = min(piece, end - self._offset)
                    self._read(view[:n], self._offset)
                    if dst_is_file:
                        self._write_sparse(dst_fd, view, n)
                    else:
                        self.throttle.consume(n)
                        self._write(view[:n], self._offset)
                    self._offset += n
            self.check_cancelled()
            os.fsync(dst_fd)
        finally:
            # The buffers go with the last view.
            self._zeroes = self._buf_address = None

    def _write_sparse(self, dst_fd, view, n):
        """Write the first n bytes of the buffer at the offset, except
        the all-zero grains, which become holes."""
        start = 0
        while start < n:
            zero = self._is_zero(start, n)
            end = start + ZERO_GRAIN
            while end < n and self._is_zero(end, n) == zero:
                end += ZERO_GRAIN
            end = min(end, n)
            if zero:
                self._zero_range(dst_fd, self._offset + start, end - start)
            else:
                self.throttle.consume(end - start)
                self._write(view[start:end], self._offset + start)
            start = end

    def _is_zero(self, start, n):
        """Whether the grain of the buffer at start (up to n) is zero."""
        return fsutils.is_zero(self._buf_address + start,
                               min(ZERO_GRAIN, n - start))

    def _next_data(self, fd, offset):
        """The next data range (start, end) at or after ``offset``,
        clipped to the copy; (size, size) when only holes remain."""
        try:
            start = os.lseek(fd, offset, os.SEEK_DATA)
        except OSError as e:
            if e.errno == errno.ENXIO:
                return self.size, self.size
            if e.errno in fsutils.UNSUPPORTED:
                return offset, self.size
            raise
        if start >= self.size:
            return self.size, self.size
        return start, min(os.lseek(fd, start, os.SEEK_HOLE), self.size)

    def _zero_until(self, dst_fd, end):
        """Make the destination read as zeroes from the offset to end."""
        while self._offset < end:
            self.check_cancelled()
            n = min(end - self._offset, HOLE_PIECE)
            self._zero_range(dst_fd, self._offset, n)
            self._offset += n

    def _punch(self, fd, offset, length):
        """File destination: a hole, so that it stays sparse."""
        if self._can_punch:
            try:
                fsutils.punch_hole(fd, offset, length)
                return
            except OSError as e:
                if e.errno not in fsutils.UNSUPPORTED:
                    raise
                LOG.info('%s cannot punch holes (%s)', self.dst, e)
                self._can_punch = False
        if not self.dst_zeroed:
            self._write_zeroes(fd, offset, length)

    def _zero_out(self, fd, offset, length):
        """Block device destination: zeroed in place (the device may
        hold another volume's data)."""
        if self.dst_zeroed:
            return
        sector = self._sector
        start = -(-offset // sector) * sector
        end = (offset + length) // sector * sector
        if self._can_zero_out and end > start:
            self.throttle.consume(end - start)
            try:
                fsutils.zero_out(fd, start, end - start)
                self._write_zeroes(fd, offset, start - offset)
                self._write_zeroes(fd, end, offset + length - end)
                return
            except OSError as e:
                if e.errno not in fsutils.UNSUPPORTED:
                    raise
                LOG.info('%s cannot zero out (%s)', self.dst, e)
                self._can_zero_out = False
        self._write_zeroes(fd, offset, length)

    def _write_zeroes(self, fd, offset, length):
        zeroes = memoryview(self._zeroes)
        while length > 0:
            self.check_cancelled()
            n = min(length, len(zeroes))
            self.throttle.consume(n)
            _pwrite_all(fd, zeroes[:n], offset)
            offset += n
            length -= n

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
