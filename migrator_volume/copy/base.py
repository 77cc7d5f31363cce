"""What every copier offers: run, cancel, how far it got, and where it
can resume (copy.watermark)."""

import abc
import os
import threading

from migrator_api.common import exception
from migrator_volume.copy import throttle
from migrator_volume.copy import watermark as mwatermark

#: Defaults of the marks of a copier made without a configuration.
MARK_BYTES = 128 * 1024 * 1024
MARK_SECONDS = 5


class CopyInterrupted(exception.CopyFailed):
    """The copy stopped because of something that a retry from its
    watermark may not meet again (its dd was killed, the connection
    to the source was lost)."""


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
    :param resume_from: a watermark of an earlier run of this copy:
        every byte below it is on the destination already (rounded down
        to what the copier can start at).
    :param redo_until: how far that earlier run may have written (the
        reservation of its last mark): what this run writes again below
        it is counted in ``recopied_bytes``.
    :param on_mark: ``on_mark(watermark, reserved)`` records a mark
        (copy.watermark); None: no marks.
    :param mark_bytes, mark_seconds: how often marks are taken.
    """

    def __init__(self, src, dst, size, bps_limit=0, dst_zeroed=False,
                 label=None, resume_from=0, redo_until=0, on_mark=None,
                 mark_bytes=MARK_BYTES, mark_seconds=MARK_SECONDS):
        self.src = src
        self.dst = dst
        self.size = size
        self.dst_zeroed = dst_zeroed
        self.label = label or dst
        self._cancelled = threading.Event()
        self.throttle = throttle.Throttle(bps_limit, self._cancelled)
        self.resume_from = min(max(0, int(resume_from or 0)), size)
        self.redo_until = redo_until or 0
        self.on_mark = on_mark
        self.mark_bytes = mark_bytes
        self.mark_seconds = mark_seconds
        self.watermark = mwatermark.Watermark(self.resume_from,
                                              self.redo_until)
        self.marker = None

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

    @property
    def recopied_bytes(self):
        """Bytes written again that an earlier run may have written."""
        return self.watermark.recopied

    def current_watermark(self):
        """Below it, every byte is written (durable once synced)."""
        return self.watermark.value

    def begin(self, align, sync):
        """Start at ``resume_from`` rounded down to ``align``, and take
        marks (``sync()`` makes the destination durable) if asked."""
        self.resume_from = self.resume_from // align * align
        self.watermark = mwatermark.Watermark(self.resume_from,
                                              self.redo_until)
        if self.on_mark is not None:
            self.marker = mwatermark.Marker(
                self.watermark, self.current_watermark, sync, self.on_mark,
                self.mark_bytes, self.mark_seconds, self.label)
            self.marker.start()

    def reserve(self, end):
        """Before a range ending at ``end`` is handed out."""
        if self.marker is not None:
            self.marker.reserve(end)

    def end(self, finished):
        """Stop the marks; a copy that did not finish takes a last one."""
        if self.marker is not None:
            self.marker.stop(final=not finished)

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
