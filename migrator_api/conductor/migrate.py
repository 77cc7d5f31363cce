"""The migration of a volume, as a state machine over recorded phases.

Every step is recorded (``Migration.phase``, a compare-and-swap
update) before it is taken, and each phase's work is idempotent, so
whichever conductor holds the migration next (after a report, a cancel
or a restart) resumes from the recorded phase::

  queued -> creating_destination -> copying -> finalizing
         -> deleting_source -> done (success)
  any phase before finalizing -> rolling_back -> done (error|cancelled)

Once ``finalizing`` has switched the volume onto the destination (one
transaction), the migration only goes forward.

The copy runs on the destination backend's volume worker; its end
arrives as a report (``copy_finished``) to whichever conductor receives
it, which carries the machine on from there.
"""

import threading

from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import timeutils

from migrator_api.common import context as mcontext
from migrator_api.common import exception
from migrator_api.common import states
from migrator_api.common import threads
from migrator_api.db import api as db_api
from migrator_volume import rpcapi as volume_rpcapi

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

_locks = {}
_locks_guard = threading.Lock()


def _lock(migration_id):
    with _locks_guard:
        return _locks.setdefault(migration_id, threading.Lock())


class _Abort(Exception):
    """Leave the forward path and roll back with this reason."""

    def __init__(self, reason, cancelled=False):
        super().__init__(reason)
        self.reason = reason
        self.cancelled = cancelled


_running = set()


def spawn(migration_id):
    """Carry the migration on from its recorded phase, in a thread."""
    def _run():
        try:
            run(migration_id)
        finally:
            with _locks_guard:
                _running.discard(threading.current_thread())
    with _locks_guard:
        thread = threads.spawn('migration-%s' % migration_id, _run)
        _running.add(thread)
    return thread


def wait_idle(timeout=60):
    """Wait for the flow threads of this process (tests, shutdown)."""
    with _locks_guard:
        running = list(_running)
    for thread in running:
        thread.join(timeout)


def run(migration_id):
    """Advance the migration until it waits for a report or ends."""
    with _lock(migration_id):
        ctxt = mcontext.get_admin_context()
        while True:
            mig = db_api.migration_get(migration_id)
            handler = _HANDLERS.get(mig.phase)
            if handler is None:
                return mig
            try:
                if not handler(ctxt, mig):
                    return db_api.migration_get(migration_id)
            except _Abort as abort:
                _start_rollback(mig, abort.reason, abort.cancelled)
            except Exception as exc:
                LOG.exception('Migration %s failed in phase %s',
                              migration_id, mig.phase)
                if mig.phase in _RETRY_LATER:
                    # Forward-only phases (the volume already lives on
                    # the destination) and the rollback itself are
                    # retried by the watchdog, never reversed.
                    db_api.migration_update(
                        migration_id, {'error': exception.describe(exc)},
                        expected={'phase': mig.phase})
                    return db_api.migration_get(migration_id)
                _start_rollback(mig, exception.describe(exc))



def _advance(mig, phase, extra=None, volume_values=None):
    """Record the next phase; False if someone else moved it first."""
    values = {'phase': phase}
    status = states.PHASE_STATUS.get(phase)
    if status is not None:
        values['status'] = status
        volume_values = dict(volume_values or {}, migration_status=status)
    values.update(extra or {})
    return db_api.migration_and_volume_update(
        mig.id, values, mig.volume_id, volume_values,
        expected={'phase': mig.phase})


def _check_cancel(mig):
    if db_api.migration_get(mig.id).cancel_requested:
        raise _Abort('cancelled by request', cancelled=True)


def _volume_rpc():
    return volume_rpcapi.VolumeAPI(timeout=CONF.conductor.rpc_call_timeout)


# Phase handlers: return True to go on at once, False to stop and wait
# for a report (or because another actor moved the migration on).

def _queued(ctxt, mig):
    _check_cancel(mig)
    volume = db_api.volume_get(mig.volume_id)
    dst_id = db_api.migration_create_destination(mig.id, {
        'name': 'migration-%s' % mig.id, 'size': volume.size,
        'backend_id': mig.dest_backend_id, 'project_id': None,
        'user_id': None})
    return dst_id is not None


def _creating_destination(ctxt, mig):
    _check_cancel(mig)
    dest = mig.dest_backend
    location = _volume_rpc().create_volume(
        ctxt, dest.host, dest.name, mig.dest_volume_id,
        db_api.volume_get(mig.volume_id).size)
    db_api.volume_update(mig.dest_volume_id,
                         {'location': location, 'status': states.AVAILABLE})
    _check_cancel(mig)
    if not _advance(mig, states.P_COPYING,
                    extra={'copy_host': dest.host,
                           'progress_updated_at': timeutils.utcnow()}):
        return False
    volume = db_api.volume_get(mig.volume_id)
    LOG.info('Migration %s: copying volume %s (%d bytes) from %s to %s',
             mig.id, volume.id, volume.size, mig.source_backend.name,
             dest.name)
    _volume_rpc().copy_volume(ctxt, dest.host, mig.id, volume.id,
                              volume.location, dest.name, location,
                              volume.size)
    return False


def _copying(ctxt, mig):
    # Nothing to do until the worker reports (copy_finished) or the
    # watchdog finds the copy gone.
    return False


def copy_finished(migration_id, bytes_done, bytes_total, error):
    """The worker's report that the copy ended (any conductor)."""
    mig = db_api.migration_get(migration_id)
    if mig.phase != states.P_COPYING:
        LOG.info('Migration %s: copy report ignored in phase %s',
                 migration_id, mig.phase)
        return
    if error is None and not mig.cancel_requested:
        if _advance(mig, states.P_FINALIZING,
                    extra={'bytes_done': bytes_done,
                           'bytes_total': bytes_total,
                           'progress_updated_at': timeutils.utcnow()}):
            spawn(migration_id)
        return
    cancelled = bool(mig.cancel_requested)
    _start_rollback(mig, 'cancelled by request' if cancelled else error,
                    cancelled)


def _finalizing(ctxt, mig):
    if not db_api.migration_switch_volume(mig, states.P_FINALIZING):
        return False
    LOG.info('Migration %s: volume %s now lives on backend %s', mig.id,
             mig.volume_id, mig.dest_backend.name)
    return True


def _deleting_source(ctxt, mig):
    old = db_api.volume_get(mig.dest_volume_id, include_hidden=True)
    _delete_backend_volume(ctxt, old)
    now = timeutils.utcnow()
    volume_values = {'migration_status': states.M_SUCCESS}
    if mig.force:
        volume_values['status'] = mig.previous_volume_status
    db_api.migration_and_volume_update(
        mig.id, {'phase': states.P_DONE, 'status': states.M_SUCCESS,
                 'finished_at': now, 'error': None,
                 'bytes_done': mig.bytes_total},
        mig.volume_id, volume_values,
        expected={'phase': states.P_DELETING_SOURCE})
    LOG.info('Migration %s of volume %s succeeded', mig.id, mig.volume_id)
    return False


def _delete_backend_volume(ctxt, volume):
    """Delete a (hidden) volume's data and its row; idempotent."""
    if volume.location is not None:
        backend = db_api.backend_get(volume.backend_id)
        _volume_rpc().delete_volume(ctxt, backend.host, backend.name,
                                    volume.provider_id, volume.location)
    db_api.volume_destroy(volume.id)


def _start_rollback(mig, reason, cancelled=False):
    LOG.warning('Migration %s of volume %s: rolling back (%s)', mig.id,
                mig.volume_id, reason)
    # The status stays as it is while an error is rolled back, so that
    # "error" means "rolled back"; a cancel shows as cancelling.
    values = {'phase': states.P_ROLLING_BACK,
              'error': None if cancelled else reason}
    volume_values = None
    if cancelled:
        values['status'] = states.M_CANCELLING
        volume_values = {'migration_status': states.M_CANCELLING}
    if mig.phase in _FORWARD_ONLY or not db_api.migration_and_volume_update(
            mig.id, values, mig.volume_id, volume_values,
            expected={'phase': mig.phase}):
        return
    spawn(mig.id)


def _rolling_back(ctxt, mig):
    if mig.copy_host is not None:
        try:
            _volume_rpc().cancel_copy(ctxt, mig.copy_host, mig.id)
        except Exception:
            LOG.exception('Migration %s: cancelling the copy on %s failed',
                          mig.id, mig.copy_host)
            raise
    if mig.dest_volume_id is not None:
        try:
            dst = db_api.volume_get(mig.dest_volume_id, include_hidden=True)
        except exception.VolumeNotFound:
            dst = None
        if dst is not None:
            _delete_backend_volume(ctxt, dst)
    cancelled = mig.status == states.M_CANCELLING
    final = states.M_CANCELLED if cancelled else states.M_ERROR
    volume_values = {'migration_status': final}
    if mig.force:
        volume_values['status'] = mig.previous_volume_status
    db_api.migration_and_volume_update(
        mig.id, {'phase': states.P_DONE, 'status': final,
                 'finished_at': timeutils.utcnow()},
        mig.volume_id, volume_values,
        expected={'phase': states.P_ROLLING_BACK})
    LOG.info('Migration %s of volume %s ended: %s%s', mig.id, mig.volume_id,
             final, '' if cancelled else ' (%s)' % mig.error)
    return False


_HANDLERS = {
    states.P_QUEUED: _queued,
    states.P_CREATING_DESTINATION: _creating_destination,
    states.P_COPYING: _copying,
    states.P_FINALIZING: _finalizing,
    states.P_DELETING_SOURCE: _deleting_source,
    states.P_ROLLING_BACK: _rolling_back,
}

_FORWARD_ONLY = (states.P_FINALIZING, states.P_DELETING_SOURCE,
                 states.P_FOLDING)
_RETRY_LATER = _FORWARD_ONLY + (states.P_ROLLING_BACK,)


def cancel(migration_id):
    """A cancel request (the flag is already recorded by the API)."""
    mig = db_api.migration_get(migration_id)
    if mig.phase == states.P_COPYING:
        _start_rollback(mig, 'cancelled by request', cancelled=True)
    elif mig.phase in (states.P_QUEUED, states.P_CREATING_DESTINATION):
        # The thread running these phases checks the flag between steps;
        # make sure one runs.
        spawn(migration_id)
