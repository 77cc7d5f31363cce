"""In-process copy for every copy that involves a file.

Sparse-aware: the source's data ranges are found with SEEK_DATA /
SEEK_HOLE and only they are read.  What the source does not hold (its
holes, and all-zero chunks when the destination is a file) becomes a
hole of a file destination (punched, so a destination file stays
sparse) or is zeroed on a block device (BLKZEROOUT), unless the
destination is known to read as zeroes already, so no stale data
survives.  One fixed buffer is reused: memory does not grow with the
volume.  Progress is the current offset.
"""

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
            src_fd = os.open(self.src, os.O_RDONLY | os.O_CLOEXEC)
            try:
                dst_fd = os.open(self.dst, os.O_WRONLY | os.O_CLOEXEC)
                try:
                    self._copy(src_fd, dst_fd)
                finally:
                    os.close(dst_fd)
            finally:
                os.close(src_fd)
        except OSError as e:
            raise exception.CopyFailed(
                reason='%s to %s at offset %d: %s'
                       % (self.src, self.dst, self._offset, e))

    def _copy(self, src_fd, dst_fd):
        self.check_sizes(src_fd, dst_fd)
        dst_is_file = stat.S_ISREG(os.fstat(dst_fd).st_mode)
        self._zero_range = (self._punch if dst_is_file else self._zero_out)
        self._sector = 1 if dst_is_file else fsutils.sector_size(dst_fd)
        piece = self.throttle.piece_size(self.chunk_size, ALIGN)
        buf = mmap.mmap(-1, piece)
        view = memoryview(buf)
        self._zeroes = bytes(piece)
        try:
            while self._offset < self.size:
                start, end = self._next_data(src_fd, self._offset)
                self._zero_until(dst_fd, start)
                while self._offset < end:
                    self.check_cancelled()
                    n = min(piece, end - self._offset)
                    self._read(src_fd, view[:n], self._offset)
                    if dst_is_file and buf[:n] == self._zeroes[:n]:
                        self._zero_range(dst_fd, self._offset, n)
                    else:
                        self.throttle.consume(n)
                        self._write(dst_fd, view[:n], self._offset)
                    self._offset += n
            self.check_cancelled()
            os.fsync(dst_fd)
        finally:
            self._zeroes = None     # the buffers go with the last view

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
            self._write(fd, zeroes[:n], offset)
            offset += n
            length -= n

    def _read(self, fd, view, offset):
        got = 0
        while got < len(view):
            n = os.preadv(fd, [view[got:]], offset + got)
            if n == 0:
                raise exception.CopyFailed(
                    reason='%s ended at offset %d' % (self.src, offset + got))
            got += n

    @staticmethod
    def _write(fd, view, offset):
        done = 0
        while done < len(view):
            done += os.pwrite(fd, view[done:], offset + done)
