"""Bandwidth limit of one copy (``[volume] volume_copy_bps_limit``).

A token bucket that starts empty: every byte is paid for before it is
written, so a copy of N bytes never takes less than about N / rate
seconds, and the bucket holds at most ``BURST_SECONDS`` of credit so
that an idle moment cannot be followed by a long burst.

Several threads (the copier's requests in flight) share one bucket:
each ``consume`` reserves its bytes under a lock, which pushes back the
moment the bucket is paid off, then waits outside the lock until its
own reservation is due.  The rate is the limit whatever the number of
threads, and the time the I/O takes is not added on top of the waits
(the bucket refills meanwhile, up to ``BURST_SECONDS``).
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
        self._lock = threading.Lock()
        # When every byte reserved so far is paid for (None: never
        # used, the bucket is empty).
        self._paid_at = None

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

    def reserve(self, nbytes):
        """Reserve ``nbytes``; the seconds to wait before moving them."""
        if not self.limited or nbytes <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            if self._paid_at is None:
                paid_at = now
            else:
                # Credit saved while idle is capped at BURST_SECONDS.
                paid_at = max(self._paid_at, now - BURST_SECONDS)
            self._paid_at = paid_at + nbytes / self.rate
            return self._paid_at - now

    def consume(self, nbytes):
        """Wait until ``nbytes`` may be written (or the copy is cancelled)."""
        wait = self.reserve(nbytes)
        if wait > 0:
            self._cancelled.wait(wait)
