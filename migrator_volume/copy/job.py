"""One copy of a migration, run in a thread of its own.

The job resolves both locations through the backends that own them,
picks a copier, runs a progress poller beside it when both backends
report progress, and tells the conductor and the notification bus how
it started, went and ended.  Every failure, bad input included, ends
in ``copy_finished(error=...)``: the RPC that started the copy was a
cast, nobody else would hear of it.

With a journal (copy.journal) the job records itself there when it
starts, at each progress report, at each mark of its watermark
(copy.watermark) and when it ends, and removes its entry once the
conductor was told of the end; an entry left behind tells the next
start of the worker what became of the copy, and where it can resume.

A job may start from a watermark (``resume_from``: the worker restarted
and the conductor asked it to resume), and retries from its watermark,
up to ``[volume] volume_copy_retries`` times, a copy interrupted by
something outside it (base.CopyInterrupted: its dd was killed, the
connection to the source was lost).  The source is frozen while it is
copied, so what an interrupted run wrote past the watermark is what the
resume writes again: the resume only costs those bytes, which it counts
(``recopied_bytes``: copied twice at most) and logs.
"""

import os
import threading
import time

from oslo_log import log as logging

from migrator_api.common import exception
from migrator_api.common import threads
from migrator_api.rpcapi import payloads
from migrator_volume import backends as mbackends
from migrator_volume.backends import base
from migrator_volume import copy as mcopy
from migrator_volume.copy import base as copy_base
from migrator_volume.copy import progress
from migrator_volume import fsutils

LOG = logging.getLogger(__name__)

RUNNING = payloads.COPY_RUNNING
DONE = payloads.COPY_DONE
ERROR = payloads.COPY_ERROR
CANCELLED = payloads.COPY_CANCELLED

#: The end of a copy stopped because its worker stops.
STOPPED = 'the volume worker stopped; the copy was interrupted'
#: Seconds between an interrupted attempt and its retry.
RETRY_DELAY = 1


class CopyJob:
    """:param reporter: has ConductorAPI's copy_progress/copy_finished.
    :param notifier: a notifications.VolumeNotifier.
    :param journal: a journal.CopyJournal, or None.
    :param resume_from: the watermark to start from (0: the start).
    :param entry: the journal entry of the interrupted run it resumes.
    """

    def __init__(self, ctxt, conf, backends, reporter, notifier,
                 migration_id, volume_id, src_location, dst_backend,
                 dst_location, size, journal=None, resume_from=0,
                 entry=None):
        self.ctxt = ctxt
        self.conf = conf
        self.backends = backends
        self.reporter = reporter
        self.notifier = notifier
        self.migration_id = migration_id
        self.volume_id = volume_id
        self.src_location = src_location
        self.dst_backend = dst_backend
        self.dst_location = dst_location
        self.size = size
        self.state = RUNNING
        self.error = None
        self.finished_at = None
        self._bytes_done = 0
        self._copier = None
        self._cancelled = False
        self._stopping = False
        self._lock = threading.Lock()
        self._thread = None
        self._wake = threading.Event()
        self.journal = journal
        self._entry = entry
        self.resume_from = resume_from
        self._bytes_done = resume_from
        #: How far the interrupted run may have written.
        self._redo_until = resume_from
        if entry is not None and resume_from:
            self._redo_until = max(resume_from, entry.get('reserved') or size)
        #: Starts of the resumes and retries, and what they copied again.
        self.resumed_from = list((entry or {}).get('resumed_from') or [])
        self.recopied = (entry or {}).get('recopied_bytes') or 0
        self.retries = 0

    @property
    def running(self):
        return self.state == RUNNING

    @property
    def bytes_done(self):
        copier = self._copier
        if self.running and copier is not None:
            return copier.bytes_done
        return self._bytes_done

    def involves(self, location):
        return location in (self.src_location, self.dst_location)

    def status(self):
        return payloads.copy_status(self.state, self.bytes_done, self.size,
                                    self.error)

    def start(self):
        """Record the copy in the journal, then run it in a thread."""
        if self.resume_from:
            self.resumed_from.append(self.resume_from)
        if self.journal is not None:
            if self._entry is None:
                self._entry = self.journal.new_entry(
                    self.migration_id, self.volume_id, self.src_location,
                    self.dst_backend, self.dst_location, self.size)
            self._entry.update(state=RUNNING, error=None,
                               resumed_from=self.resumed_from,
                               watermark=self.resume_from,
                               bytes_done=self.resume_from)
            self._record()
        self._thread = threads.spawn('copy-%s' % self.migration_id, self.run)

    def wait(self, timeout=None):
        """Wait for the job to end; whether it has."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    def cancel(self, stopping=False):
        """Stop the copy; ``stopping``: because the worker stops (the
        copy is then not ended in the journal: the next start of the
        worker reports it as interrupted unless its end is reported)."""
        with self._lock:
            self._cancelled = True
            self._stopping = self._stopping or stopping
            copier = self._copier
        self._wake.set()
        if copier is not None:
            copier.cancel()

    def _prepare(self, resume_from, redo_until):
        """Resolve the locations (the source: into a local path, unless
        it is another host's export); return a copier and whether
        progress is to be polled."""
        base.check_size(self.size)
        dst_driver = mbackends.get_backend(self.backends, self.dst_backend)
        dst_path = dst_driver.local_path(self.dst_location)
        drivers = [dst_driver]
        if payloads.is_nbd(self.src_location):
            src, src_name = self.src_location, 'another host'
            payloads.nbd_uri(src)       # InvalidInput unless well formed
        else:
            src_driver = mbackends.find_owner(self.backends,
                                              self.src_location)
            src = src_driver.local_path(self.src_location)
            src_name = src_driver.name
            drivers.append(src_driver)
            if os.path.realpath(src) == os.path.realpath(dst_path):
                raise exception.InvalidInput(
                    reason='source and destination are both %s' % src)
            if self._entry is not None and not resume_from:
                self._entry['src_bytes'] = fsutils.device_size(src)
        copier = mcopy.make_copier(
            src, dst_path, self.size, self.conf,
            dst_zeroed=dst_driver.reads_zeroes, label=self.migration_id,
            resume_from=resume_from, redo_until=redo_until,
            on_mark=self._mark if self._entry is not None else None)
        report = all(d.capabilities()['migration_progress_report']
                     for d in drivers)
        LOG.info('Copy %s: volume %s, %d bytes from offset %d, %s (%s) to '
                 '%s (%s) with %s', self.migration_id, self.volume_id,
                 self.size, resume_from, copier.src, src_name, dst_path,
                 dst_driver.name, type(copier).__name__)
        return copier, report

    def _attempt(self, resume_from, redo_until):
        """Run one copier from ``resume_from``."""
        copier, report = self._prepare(resume_from, redo_until)
        with self._lock:
            if self._cancelled:
                raise exception.CopyCancelled(copy_id=self.migration_id)
            self._copier = copier
        poller = None
        if report:
            poller = progress.ProgressPoller(
                self.conf.volume.migration_progress_report_interval,
                lambda: (copier.bytes_done, self.size),
                [self._report_progress], self.migration_id)
            poller.start()
        try:
            copier.run()
        finally:
            if poller is not None:
                poller.stop()
            self.recopied += copier.recopied_bytes

    def _copy(self):
        """Attempts until one finishes, or the retries are spent."""
        resume_from, redo_until = self.resume_from, self._redo_until
        while True:
            try:
                return self._attempt(resume_from, redo_until)
            except copy_base.CopyInterrupted as e:
                copier = self._copier
                if (copier is None or self._cancelled or
                        self.retries >= self.conf.volume.volume_copy_retries):
                    raise
                self.retries += 1
                resume_from = copier.current_watermark()
                redo_until = max(redo_until, copier.watermark.frontier)
                self.resumed_from.append(resume_from)
                self._record(resumed_from=self.resumed_from,
                             recopied_bytes=self.recopied)
                LOG.warning('Copy %s interrupted (%s): retry %d of %d from '
                            'offset %d', self.migration_id, e, self.retries,
                            self.conf.volume.volume_copy_retries,
                            resume_from)
            if self._wake.wait(RETRY_DELAY) or self._cancelled:
                raise exception.CopyCancelled(copy_id=self.migration_id)

    def run(self):
        started = time.monotonic()
        self.notifier.start(self.ctxt, self.migration_id, self.volume_id,
                            self.size)
        state, error = DONE, None
        try:
            self._copy()
        except exception.CopyCancelled as e:
            state, error = CANCELLED, str(e)
        except exception.MigratorException as e:
            state, error = ERROR, str(e)
        except Exception as e:
            LOG.exception('Copy %s failed', self.migration_id)
            state, error = ERROR, 'unexpected error: %s' % e
        self._finish(state, error, time.monotonic() - started)

    def _record(self, durable=True, **fields):
        """Update the journal entry; a failure is logged, not raised."""
        if self._entry is None:
            return
        self._entry.update(fields)
        try:
            self.journal.save(self._entry, durable=durable)
        except Exception:
            LOG.exception('Cannot record copy %s in the journal',
                          self.migration_id)

    def _mark(self, watermark, reserved):
        """Record a mark of the copier's (copy.watermark): durably."""
        self._record(watermark=watermark,
                     reserved=max(reserved, self._redo_until),
                     recopied_bytes=self.recopied + (
                         self._copier.recopied_bytes if self._copier else 0))

    def _report_progress(self, bytes_done, bytes_total):
        self._record(durable=False, bytes_done=bytes_done)
        self.notifier.progress(self.ctxt, self.migration_id, self.volume_id,
                               bytes_done, bytes_total)
        self.reporter.copy_progress(self.ctxt, self.migration_id, bytes_done,
                                    bytes_total)

    def _finish(self, state, error, elapsed):
        if self._copier is not None:
            self._bytes_done = self._copier.bytes_done
        if state == CANCELLED and self._stopping:
            error = STOPPED
            self._record(bytes_done=self._bytes_done,
                         recopied_bytes=self.recopied)
        else:
            self._record(state=state, error=error,
                         bytes_done=self._bytes_done,
                         recopied_bytes=self.recopied)
        if self.resumed_from:
            LOG.info('Copy %s resumed from offsets %s: %d bytes copied '
                     'twice at most', self.migration_id,
                     ', '.join(str(o) for o in self.resumed_from),
                     self.recopied)
        self.error = error
        self.finished_at = time.monotonic()
        self.state = state
        if state == DONE:
            LOG.info('Copy %s done: %d bytes in %.1f s (%.1f MB/s)',
                     self.migration_id, self.size, elapsed,
                     self.size / max(elapsed, 1e-6) / 1e6)
            self.notifier.end(self.ctxt, self.migration_id, self.volume_id,
                              self.size)
        else:
            LOG.error('Copy %s %s after %d bytes: %s', self.migration_id,
                      state, self._bytes_done, error)
            self.notifier.error(self.ctxt, self.migration_id, self.volume_id,
                                self._bytes_done, self.size, error)
        try:
            self.reporter.copy_finished(self.ctxt, self.migration_id,
                                        self._bytes_done, self.size,
                                        error=error)
        except Exception:
            LOG.exception('Cannot report the end of copy %s',
                          self.migration_id)
            return
        if self._entry is not None:
            try:
                self.journal.remove(self.migration_id)
            except OSError:
                LOG.exception('Cannot remove copy %s from the journal',
                              self.migration_id)
