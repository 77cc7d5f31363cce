"""Where an interrupted copy can resume: its watermark.

A copier hands ranges of the volume to its requests in flight in the
order of the volume and they complete in any order.  The watermark is
the highest offset below which every range handed out is written: the
start of the lowest range not written yet (of a range that a dd is
writing in order, where that dd has got to).  Past it, some ranges may
be written and some not.

A mark records the watermark durably: the watermark is read first,
then the destination is synced (fdatasync), then the mark is recorded
(the job writes it into its journal entry atomically and durably), so
that whatever a mark says is on the destination is on its disk.  Marks
are taken

* before the copy hands out a range ending past the mark's
  *reservation*, which then moves ``every_bytes`` further: a copy that
  dies has written nothing past the reservation of its last mark, so
  the bytes a resume copies twice are at most ``reserved - watermark``
  (``every_bytes``, plus the ranges in flight);
* every ``every_seconds`` while the watermark moves (a slow copy);
* when the copy stops without finishing (cancel, an error, the worker
  stopping).

Each mark costs one fdatasync of the destination and one small durable
write: bounded by ``every_bytes``, its cost is negligible (see
doc/source/admin/copy-resume.rst).
"""

import collections
import threading

from oslo_log import log as logging

from migrator_api.common import threads

LOG = logging.getLogger(__name__)


class Watermark:
    """The ranges handed out from ``start`` on, and which are written.

    :param start: where the copy starts (0, or the watermark it resumes
        from): everything below is written already.
    :param redo_until: how far an interrupted run of the copy may have
        written (its reservation): the bytes written again below it are
        counted in ``recopied``.
    """

    def __init__(self, start=0, redo_until=0):
        self._lock = threading.Lock()
        # {start: [end, written up to]} in the order handed out.
        self._pending = collections.OrderedDict()
        self.start = start
        #: The end of the last range handed out.
        self.frontier = start
        self.redo_until = max(redo_until, start)
        #: Bytes written again that an interrupted run may have written.
        self.recopied = 0

    def issue(self, start, end):
        """The range [start, end) is handed out (ranges come in order,
        one after the other)."""
        with self._lock:
            if start != self.frontier:
                raise ValueError('range %d-%d handed out after %d'
                                 % (start, end, self.frontier))
            self._pending[start] = [end, start]
            self.frontier = end

    def advance(self, start, pos):
        """The range handed out at ``start`` is written up to ``pos``
        (a dd writes its segment in order)."""
        with self._lock:
            entry = self._pending.get(start)
            if entry is not None:
                entry[1] = max(entry[1], min(pos, entry[0]))

    def complete(self, start):
        """The range handed out at ``start`` is written."""
        with self._lock:
            entry = self._pending.get(start)
            if entry is None:
                return
            end = entry[0]
            entry[1] = end
            self.recopied += max(0, min(end, self.redo_until) - start)
            while self._pending:
                first = next(iter(self._pending.values()))
                if first[1] < first[0]:
                    break
                self._pending.popitem(last=False)

    @property
    def value(self):
        """The watermark (written; durable only once synced)."""
        with self._lock:
            for end, written in self._pending.values():
                if written < end:
                    return written
            return self.frontier


class Marker:
    """Takes the marks of one copy.

    :param get_watermark: the copier's current watermark.
    :param sync: makes what was written durable (fdatasync).
    :param record: ``record(watermark, reserved)`` records a mark.
    """

    def __init__(self, watermark, get_watermark, sync, record, every_bytes,
                 every_seconds, label):
        self._get = get_watermark
        self._sync = sync
        self._record = record
        self.every_bytes = max(1, every_bytes)
        self.every_seconds = every_seconds
        self.label = label
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        #: The watermark of the last mark, and its reservation.
        self.durable = watermark.start
        self.reserved = watermark.frontier
        self.marks = 0

    def reserve(self, end):
        """Called before a range ending at ``end`` is handed out."""
        if end > self.reserved:
            self.mark(reserve=end + self.every_bytes)

    def mark(self, reserve=0):
        """Take a mark (a failure is logged: the copy goes on)."""
        with self._lock:
            try:
                watermark = self._get()     # read before the sync
                self._sync()
                reserved = max(self.reserved, reserve)
                self._record(watermark, reserved)
            except Exception:
                # The last mark recorded stays true; only the count of
                # bytes a resume copies twice may then be too low.
                LOG.exception('Copy %s: cannot record its watermark',
                              self.label)
                self.reserved = max(self.reserved, reserve)
                return
            self.durable, self.reserved = watermark, reserved
            self.marks += 1

    def start(self):
        if self.every_seconds:
            self._thread = threads.spawn('mark-%s' % self.label, self._run)

    def _run(self):
        while not self._stop.wait(self.every_seconds):
            if self._get() > self.durable:
                self.mark()

    def stop(self, final=True):
        """Stop the timer; ``final``: take a last mark (the copy stops
        without having finished)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if final:
            self.mark()
