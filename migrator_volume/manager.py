"""The volume worker's RPC endpoint (see migrator_volume.rpcapi).

Thin: the backends do the storage work, copy.job.CopyJob runs copies.
Running copies live in memory, and each in the copy journal under
``[DEFAULT] state_path`` (copy.journal) until its end was reported.  A
worker that starts reports at once the copies a previous run lost (it
died, or could not report their end), without waiting for
``[conductor] copy_report_timeout``: one that ended, with its end (the
conductor carries on, or rolls back); one that was still running and
can resume (copy.resume), with its watermark (copy_interrupted: the
conductor casts copy_volume again with ``resume_from`` when its
migration still wants it); any other as interrupted (the migration
rolls back).  get_copy_status then tells what became of them.

The conductor records a backend's capacity (get_backend_stats) after
each create and delete it asks; the heartbeat leaves out a backend
while one runs, so that it never records the capacity from before the
change after the conductor recorded the one from after.

With ``[nbd] enabled`` the worker exports its volumes to the hosts the
conductor names (export_volume, unexport_volume: migrator_volume.exports)
and copies from the volumes other hosts export to it (an ``nbd``
source location); its backends report the ``nbd`` capability.
"""

import collections
import contextlib
import threading
import time

from oslo_config import cfg
from oslo_log import log as logging
import oslo_messaging as messaging

from migrator_api.common import context
from migrator_api.common import exception
from migrator_api.common import states
from migrator_api.rpcapi import conductor as conductor_rpcapi
from migrator_api.rpcapi import payloads
from migrator_volume import backends as mbackends
from migrator_volume.backends import base as backends_base
from migrator_volume.copy import job as copy_job
from migrator_volume.copy import journal as copy_journal
from migrator_volume.copy import resume as copy_resume
from migrator_volume import exports as mexports
from migrator_volume import notifications

LOG = logging.getLogger(__name__)

#: Seconds the worker remembers a finished copy for get_copy_status.
FINISHED_COPY_TTL = 3600
#: Seconds cancel_copy waits for the copy to stop writing.
CANCEL_WAIT = 30
#: The end of a copy that a previous run of the worker left running.
INTERRUPTED = copy_resume.INTERRUPTED
#: Seconds a copy waiting for the conductor's answer to its resume
#: request is told running (get_copy_status), then interrupted.
RESUME_WAIT = 300


class VolumeManager:
    target = messaging.Target(version='1.3')

    def __init__(self, host=None, conf=None, backends=None):
        """:param backends: {name: driver}; loaded from the
        configuration by init_host() when not given."""
        self.conf = conf or cfg.CONF
        self.host = host or self.conf.host
        self.backends = backends
        self._jobs = {}
        self._jobs_lock = threading.Lock()
        self._conductor = None
        self._notifier = None
        self.journal = copy_journal.CopyJournal(self.conf.state_path)
        self.exports = mexports.Exports(self.conf, self.conf.state_path)
        # Copies a previous run lost: status, and entries to report.
        self._lost = {}
        self._unreported = {}
        #: {migration id: (entry, offset, since)}: copies that can
        #: resume, waiting for the conductor's copy_volume.
        self._resumable = {}
        self._unasked = set()
        #: {migration id: when}: cancels that came before their copy.
        self._cancelled_early = {}
        self._changing = collections.Counter()
        self._stats_lock = threading.Lock()

    @property
    def conductor(self):
        if self._conductor is None:
            self._conductor = conductor_rpcapi.ConductorAPI()
        return self._conductor

    @property
    def notifier(self):
        if self._notifier is None:
            self._notifier = notifications.VolumeNotifier(self.host)
        return self._notifier

    def init_host(self):
        self.exports.check_config()
        if self.backends is None:
            self.backends = mbackends.load_backends(self.conf)
        LOG.info('Volume worker %s serves backends: %s', self.host,
                 ', '.join(sorted(self.backends)) or 'none')
        for entry in self.journal.entries():
            if not self._can_resume(entry):
                end = _lost_end(entry)
                self._lost[entry['migration_id']] = end
                self._unreported[entry['migration_id']] = end
        self._report_lost_copies()
        self.exports.recover()

    def _can_resume(self, entry):
        """Whether a copy of the journal waits to resume (its entry was
        left running, and it can: copy.resume); else its entry's error
        says why it cannot."""
        if entry.get('state') not in (None, copy_job.RUNNING):
            return False
        migration_id = entry['migration_id']
        offset, why = copy_resume.resume_point(entry, self.backends)
        if offset is None:
            pass
        elif not self.conductor.can_send_version('1.2'):
            why = 'the conductor is too old to resume copies'
        else:
            LOG.info('Copy %s was interrupted by the previous run of this '
                     'worker: it can resume from offset %d of %d',
                     migration_id, offset, entry['size'])
            self._resumable[migration_id] = (entry, offset,
                                             time.monotonic())
            self._unasked.add(migration_id)
            return True
        LOG.warning('Copy %s cannot resume: %s', migration_id, why)
        entry['error'] = copy_resume.cannot_resume(why)
        return False

    def _ask_resumes(self, ctxt):
        """Ask the conductor to resume the copies that can."""
        for migration_id in sorted(self._unasked):
            entry, offset, _since = self._resumable[migration_id]
            try:
                self.conductor.copy_interrupted(
                    ctxt, migration_id, self.host, offset, entry['size'])
            except Exception:
                LOG.exception('Cannot ask the conductor to resume copy %s',
                              migration_id)
                continue
            self._unasked.discard(migration_id)

    def _report_lost_copies(self):
        """Tell the conductor how the copies of a previous run ended, or
        where they can resume; what cannot be told now is told at the
        next heartbeat."""
        ctxt = context.get_admin_context()
        self._ask_resumes(ctxt)
        for migration_id, end in sorted(self._unreported.items()):
            LOG.warning('Copy %s was left %s by the previous run of this '
                        'worker: reporting it (%s)', migration_id,
                        end['state'], end['error'] or 'done')
            try:
                self.conductor.copy_finished(
                    ctxt, migration_id, end['bytes_done'],
                    end['bytes_total'], error=end['error'])
            except Exception:
                LOG.exception('Cannot report the end of copy %s',
                              migration_id)
                continue
            del self._unreported[migration_id]
            self.journal.remove(migration_id)

    def cleanup_host(self):
        """Stop the running copies (on service stop)."""
        with self._jobs_lock:
            running = [j for j in self._jobs.values() if j.running]
        for job in running:
            job.cancel(stopping=True)
        for job in running:
            job.wait(CANCEL_WAIT)
        self.exports.stop_idle()

    def _expire_resumable(self):
        """A copy the conductor did not resume within RESUME_WAIT is
        reported as interrupted (and then forgotten)."""
        limit = time.monotonic() - RESUME_WAIT
        with self._jobs_lock:
            for migration_id, (entry, offset, since) in list(
                    self._resumable.items()):
                if since < limit:
                    del self._resumable[migration_id]
                    self._unasked.discard(migration_id)
                    end = payloads.copy_status(
                        copy_job.ERROR, offset, entry['size'],
                        copy_resume.cannot_resume(
                            'the conductor did not resume it'))
                    self._lost[migration_id] = end
                    self._unreported[migration_id] = end

    def report_state(self):
        if self._resumable:
            self._expire_resumable()
        if self._unreported or self._unasked:
            self._report_lost_copies()
        try:
            self.exports.reclaim()
        except Exception:
            LOG.exception('Cannot close the exports left by a previous run')
        with self._stats_lock:
            stats = []
            for name, driver in sorted(self.backends.items()):
                if self._changing[name]:
                    continue    # recorded by the conductor once done
                try:
                    stats.append(self._stats(driver))
                except Exception:
                    LOG.exception('Cannot read the stats of backend %s',
                                  name)
            # Sent before any create or delete starts on these backends.
            self.conductor.report_state(context.get_admin_context(),
                                        self.host, states.BINARY_VOLUME,
                                        backends=stats)

    @contextlib.contextmanager
    def _changing_capacity(self, backend):
        with self._stats_lock:
            self._changing[backend] += 1
        try:
            yield
        finally:
            with self._stats_lock:
                self._changing[backend] -= 1

    def _stats(self, driver):
        stats = driver.get_stats()
        stats['capabilities'].update(self.exports.capabilities())
        return stats

    def get_backend_stats(self, ctxt, backend):
        """(1.1) What the heartbeat reports of ``backend``, read now."""
        return self._stats(mbackends.get_backend(self.backends, backend))

    def create_volume(self, ctxt, backend, volume_id, size):
        driver = mbackends.get_backend(self.backends, backend)
        with self._changing_capacity(backend):
            return driver.create_volume(volume_id, size)

    def delete_volume(self, ctxt, backend, volume_id, location):
        driver = mbackends.get_backend(self.backends, backend)
        with self._jobs_lock:
            for job in self._jobs.values():
                if job.running and job.involves(location):
                    raise exception.Conflict(
                        reason='volume %s is being copied by migration %s'
                               % (volume_id, job.migration_id))
        for migration_id, (entry, _o, _s) in list(self._resumable.items()):
            if entry['dst_location'] == location:
                self._forget_resumable(migration_id)
        self.exports.unexport(volume_id)
        with self._changing_capacity(backend):
            driver.delete_volume(volume_id, location)

    def export_volume(self, ctxt, backend, volume_id, location, clients,
                      writable=False):
        """(1.2) Serve a volume of ``backend`` over NBD to the hosts
        ``clients``; its nbd location (the same export again: the same
        location)."""
        driver = mbackends.get_backend(self.backends, backend)
        backends_base.check_volume_id(volume_id)
        return self.exports.export(backend, volume_id,
                                   driver.local_path(location), clients,
                                   writable)

    def unexport_volume(self, ctxt, backend, volume_id, export=None):
        """(1.2) Close the exports of a volume (only the one named
        ``export``, if given); closing none is fine."""
        mbackends.get_backend(self.backends, backend)
        return self.exports.unexport(volume_id, export)

    def copy_volume(self, ctxt, migration_id, volume_id, src_location,
                    dst_backend, dst_location, size, resume_from=0):
        """Start a copy; (1.3) ``resume_from``: a watermark this worker
        reported (copy_interrupted), where a copy of its previous run
        resumes."""
        with self._jobs_lock:
            job = self._jobs.get(migration_id)
            if job is not None and job.running:
                LOG.info('Copy %s is already running', migration_id)
                return
            self._forget_finished()
            if migration_id in self._cancelled_early:
                # Its migration rolled back and deleted the destination,
                # which may hold another volume by now: never write it.
                LOG.warning('Copy %s arrived after its cancellation: not '
                            'started', migration_id)
                return
            entry, resume_from = self._resume_of(migration_id, resume_from)
            job = copy_job.CopyJob(
                ctxt, self.conf, self.backends, self.conductor,
                self.notifier, migration_id, volume_id, src_location,
                dst_backend, dst_location, size, journal=self.journal,
                resume_from=resume_from, entry=entry)
            self._jobs[migration_id] = job
        job.start()

    def _resume_of(self, migration_id, resume_from):
        """The journal entry and offset a copy resumes from: never past
        the watermark this worker recorded (0 without one)."""
        waiting = self._resumable.pop(migration_id, None)
        self._unasked.discard(migration_id)
        if not resume_from:
            return None, 0
        entry = waiting[0] if waiting else self.journal.get(migration_id)
        recorded = (entry or {}).get('watermark') or 0
        if recorded < resume_from:
            LOG.warning('Copy %s: asked to resume from offset %d, but its '
                        'journal records %d: resuming from there',
                        migration_id, resume_from, recorded)
            resume_from = recorded
        LOG.info('Copy %s resumes from offset %d', migration_id,
                 resume_from)
        return (entry if resume_from else None), resume_from

    def _forget_resumable(self, migration_id):
        """The conductor will not resume the copy: forget it."""
        if self._resumable.pop(migration_id, None) is not None:
            LOG.info('Copy %s will not resume', migration_id)
            self._unasked.discard(migration_id)
            self.journal.remove(migration_id)

    def _forget_finished(self):
        limit = time.monotonic() - FINISHED_COPY_TTL
        for migration_id, job in list(self._jobs.items()):
            if not job.running and job.finished_at < limit:
                del self._jobs[migration_id]
        for migration_id, when in list(self._cancelled_early.items()):
            if when < limit:
                del self._cancelled_early[migration_id]

    def cancel_copy(self, ctxt, migration_id):
        """Cancel and wait until the copy no longer writes.

        A cancel of a copy this worker has not seen yet (its copy_volume
        cast is still on its way, or being dispatched by another thread)
        is remembered, so that the copy never starts: the conductor goes
        on to delete the destination once this returns.
        """
        with self._jobs_lock:
            job = self._jobs.get(migration_id)
            if job is None:
                self._cancelled_early[migration_id] = time.monotonic()
                self._forget_resumable(migration_id)
        if job is None or not job.running:
            return False
        job.cancel()
        if not job.wait(CANCEL_WAIT):
            LOG.warning('Copy %s still running %d s after its cancellation',
                        migration_id, CANCEL_WAIT)
        return True

    def get_copy_status(self, ctxt, migration_id):
        with self._jobs_lock:
            job = self._jobs.get(migration_id)
        if job is not None:
            return job.status()
        waiting = self._resumable.get(migration_id)
        if waiting is not None:
            entry, offset, since = waiting
            if time.monotonic() - since < RESUME_WAIT:
                return payloads.copy_status(copy_job.RUNNING, offset,
                                            entry['size'])
            return payloads.copy_status(copy_job.ERROR, offset,
                                        entry['size'], INTERRUPTED)
        lost = self._lost.get(migration_id)
        return None if lost is None else dict(lost)


def _lost_end(entry):
    """The end of a copy found in the journal, as get_copy_status
    tells it: the end it recorded, or interrupted if it had none."""
    state = entry.get('state')
    if state in (copy_job.DONE, copy_job.ERROR, copy_job.CANCELLED):
        error = None if state == copy_job.DONE else (
            entry.get('error') or 'copy %s' % state)
    else:
        state, error = copy_job.ERROR, entry.get('error') or INTERRUPTED
    return {'state': state, 'bytes_done': entry.get('bytes_done') or 0,
            'bytes_total': entry.get('size') or 0, 'error': error}
