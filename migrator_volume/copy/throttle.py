"""Bandwidth limit of one copy (``[volume] volume_copy_bps_limit``).

A token bucket that starts empty: every byte is paid for before it is
written, so a copy of N bytes never takes less than about N / rate
seconds, and the bucket holds at most ``BURST_SECONDS`` of credit so
that an idle moment cannot be followed by a long burst.
"""

import threading
import time

#: Credit the bucket may hold, and the largest piece a throttled copy
#: moves at once, in seconds of bandwidth.
BURST_SECONDS = 0.1
MIN_PIECE = 64 * 1024


class Throttle:

    def __init__(self, rate, cancelled=None, clock=time.monotonic):
        """:param rate: bytes per second; 0 or None means unlimited.
        :param cancelled: a threading.Event that cuts a wait short.
        """
        self.rate = rate or 0
        self._cancelled = cancelled or threading.Event()
        self._clock = clock
        self._tokens = 0.0
        self._last = None

    @property
    def limited(self):
        return self.rate > 0

    def piece_size(self, preferred, multiple=1):
        """The most bytes to move at once: ``preferred``, or about
        BURST_SECONDS of bandwidth when that is less; rounded down to a
        multiple of ``multiple`` (at least one)."""
        piece = preferred
        if self.limited:
            piece = min(piece, max(MIN_PIECE, int(self.rate * BURST_SECONDS)))
        return max(multiple, piece // multiple * multiple)

    def consume(self, nbytes):
        """Wait until ``nbytes`` may be written (or the copy is cancelled)."""
        if not self.limited:
            return
        now = self._clock()
        if self._last is not None:
            self._tokens = min(self.rate * BURST_SECONDS,
                               self._tokens + (now - self._last) * self.rate)
        self._last = now
        self._tokens -= nbytes
        if self._tokens < 0:
            self._cancelled.wait(-self._tokens / self.rate)
