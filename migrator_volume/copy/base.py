"""What every copier offers: run, cancel, and how far it got."""

import abc
import os
import threading

from migrator_api.common import exception
from migrator_volume.copy import throttle


class Copier(metaclass=abc.ABCMeta):
    """Copies the first ``size`` bytes of ``src`` onto ``dst``.

    :param src, dst: local paths (files or block devices); ``src`` may
        name another host's volume for a copier that reads it remotely
        (copy.nbdio).
    :param bps_limit: bandwidth limit in bytes per second (0: none).
    :param dst_zeroed: whether the destination is known to read as
        zeroes wherever it was not written; when not, the copier writes
        (or discards) zeroes over every range of the source it skips.
    :param label: names the copy in messages (the migration id).
    """

    def __init__(self, src, dst, size, bps_limit=0, dst_zeroed=False,
                 label=None):
        self.src = src
        self.dst = dst
        self.size = size
        self.dst_zeroed = dst_zeroed
        self.label = label or dst
        self._cancelled = threading.Event()
        self.throttle = throttle.Throttle(bps_limit, self._cancelled)

    @property
    @abc.abstractmethod
    def bytes_done(self):
        """Bytes of the destination written so far."""

    @abc.abstractmethod
    def run(self):
        """Copy, flush the destination, return.

        :raises CopyCancelled: cancel() was called.
        :raises CopyFailed: the copy could not be done.
        """

    def cancel(self):
        """Ask the copy to stop; run() then raises CopyCancelled."""
        self._cancelled.set()

    def check_cancelled(self):
        if self._cancelled.is_set():
            raise exception.CopyCancelled(copy_id=self.label)

    def check_sizes(self, src_fd, dst_fd):
        """The source must hold ``size`` bytes; a destination block
        device too, while a shorter destination file grows to it."""
        self.check_source_size(os.lseek(src_fd, 0, os.SEEK_END))
        self.fit_destination(dst_fd)

    def check_source_size(self, src_size):
        if src_size < self.size:
            raise exception.CopyFailed(
                reason='source %s holds %d bytes, fewer than the %d to '
                       'copy' % (self.src, src_size, self.size))

    def fit_destination(self, dst_fd):
        dst_size = os.lseek(dst_fd, 0, os.SEEK_END)
        if dst_size < self.size:
            if not os.path.isfile(self.dst):
                raise exception.CopyFailed(
                    reason='destination %s holds %d bytes, fewer than the '
                           '%d to copy' % (self.dst, dst_size, self.size))
            os.ftruncate(dst_fd, self.size)
