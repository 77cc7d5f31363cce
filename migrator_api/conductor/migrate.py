"""The forward steps of a migration: one handler per phase.

The phases, the moves between them, which roll back and which are
retried are conductor.machine's; here is what each phase does.  Every
move is recorded (``Migration.phase``, a compare-and-swap update)
before its step is taken, and each step is idempotent, so whichever
conductor holds the migration next (after a report, a cancel or a
restart) resumes from the recorded phase.

The phases of an attached (in-use) volume are the compute contract:
the compute agent freezes the guest's writes to the source
(``freezing``: volume_migration_start), switches the guest onto the
destination once the copy is done (``switching``:
volume_migration_complete), and reports the end of its asynchronous
fold-in (``folding``).

A cancel is recorded by the API (``cancel_requested``, expecting a
cancellable phase: ``machine.CANCELLABLE``); every move
out of such a phase expects no cancel recorded.  Of the two writes,
whichever comes second fails: a cancel coming after the move is refused
(409); a move coming after the cancel is given up and the migration
rolls back as cancelled (``_advance``).

The copy runs on the destination backend's volume worker; its end
arrives as a report (``copy_finished``) to whichever conductor receives
it, which carries the machine on from there.
"""

import threading

from oslo_db import exception as db_exception
from oslo_log import log as logging
from oslo_utils import timeutils
from oslo_utils import uuidutils

from migrator_api.common import context as mcontext
from migrator_api.common import exception
from migrator_api.common import states
from migrator_api.common import threads
from migrator_api.conductor import attachments
from migrator_api.conductor import claims
from migrator_api.conductor import machine
from migrator_api.conductor import rollback
from migrator_api.conductor import slots
from migrator_api.conductor import volumes
from migrator_api.db import api as db_api

LOG = logging.getLogger(__name__)

_locks = {}
_locks_guard = threading.Lock()


def _lock(migration_id):
    with _locks_guard:
        return _locks.setdefault(migration_id, threading.Lock())


class _Abort(Exception):
    """Leave the forward path and roll back with this reason."""

    def __init__(self, reason, cancelled=False, given_up=False):
        super().__init__(reason)
        self.reason = reason
        self.cancelled = cancelled
        self.given_up = given_up


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
    """Advance the migration until it waits for a report or ends, as the
    one conductor driving it (conductor.claims): claimed first, released
    at the end.  A report that another conductor recorded meanwhile (its
    claim then failed: this one held the migration) moved the migration
    on, so this one drives it on.  At its end, the queued migrations
    whose slot it freed start."""
    mig = _run(migration_id)
    if mig.phase == states.P_DONE:
        slots.start_queued(spawn)
    return mig


def _run(migration_id):
    with _lock(migration_id):
        while True:
            mig = db_api.migration_get(migration_id)
            if _HANDLERS.get(mig.phase) is None:
                return mig
            if not claims.claim(mig):
                LOG.debug('Migration %s is driven by conductor %s',
                          migration_id, mig.conductor_host)
                return mig
            try:
                seen = _drive(migration_id)
            finally:
                claims.release(migration_id)
            mig = db_api.migration_get(migration_id)
            if _state(mig) == _state(seen):
                return mig


def _state(mig):
    """What reports and cancels change (and a handler waits for)."""
    return mig.phase, mig.cancel_requested, mig.fold_status


def _drive(migration_id):
    """Run the handlers of the claimed migration until one waits (the
    migration as that handler saw it is returned) or it ends."""
    ctxt = mcontext.get_admin_context()
    while True:
        mig = db_api.migration_get(migration_id)
        handler = _HANDLERS.get(mig.phase)
        if handler is None or not claims.holds(mig):
            return mig
        try:
            if not handler(ctxt, mig):
                return mig
        except _Abort as abort:
            _start_rollback(mig, abort.reason, abort.cancelled,
                            abort.given_up)
        except Exception as exc:
            LOG.exception('Migration %s failed in phase %s',
                          migration_id, mig.phase)
            if mig.phase in machine.RETRIED:
                # Past the point of no return (and the rollback
                # itself): retried by the watchdog, never reversed.
                db_api.migration_update(
                    migration_id, {'error': exception.describe(exc)},
                    expected={'phase': mig.phase})
                return mig
            _start_rollback(mig, exception.describe(exc))


def _advance(mig, phase, extra=None, volume_values=None):
    """Record the next phase; False if someone else moved it first.

    Out of a cancellable phase the write also expects no cancel: when a
    cancel was recorded since ``mig`` was read, it fails and _Abort
    (cancelled) is raised, so the migration rolls back instead.
    """
    machine.check_move(mig.phase, phase)
    values = {'phase': phase}
    status = machine.status_of(phase)
    if status is not None:
        values['status'] = status
        volume_values = dict(volume_values or {}, migration_status=status)
    values.update(extra or {})
    expected = _expected(mig)
    if db_api.migration_and_volume_update(mig.id, values, mig.volume_id,
                                          volume_values, expected=expected):
        return True
    _check_cancel(mig)
    return False


def _expected(mig):
    """What the migration must still hold for a move out of its phase."""
    expected = {'phase': mig.phase}
    if mig.phase in machine.CANCELLABLE:
        expected['cancel_requested'] = False
    return expected


def _check_cancel(mig):
    if db_api.migration_get(mig.id).cancel_requested:
        raise _Abort(rollback.CANCELLED, cancelled=True)


# Phase handlers: return True to go on at once, False to stop and wait
# for a report (or because another actor moved the migration on).

def _queued(ctxt, mig):
    # Waits (stays queued) while a concurrency limit is reached; the end
    # of another migration or the watchdog tries again (start_queued).
    _check_cancel(mig)
    try:
        outcome = slots.start(mig)
    except db_exception.DBError:
        LOG.exception('Migration %s: starting it failed; it stays queued '
                      'and is tried again', mig.id)
        return False
    if outcome == slots.CHANGED:
        _check_cancel(mig)      # a cancel came first: roll back
    return outcome != slots.WAITING


def _creating_destination(ctxt, mig):
    _check_cancel(mig)
    dest = mig.dest_backend
    size = db_api.volume_get(mig.volume_id).size
    location = volumes.create_on_backend(ctxt, dest, mig.dest_volume_id,
                                         size)
    db_api.volume_update(mig.dest_volume_id,
                         {'location': location, 'status': states.AVAILABLE,
                          'size': volumes.volume_size(location, size)})
    _check_cancel(mig)
    if machine.next_phase(mig) == states.P_FREEZING:
        # Recorded before volume_migration_start is called: a rollback
        # must then ask the compute agent to cancel.
        return _advance(mig, states.P_FREEZING, extra={'frozen': True})
    return _start_copy(ctxt, mig)


def _freezing(ctxt, mig):
    _check_cancel(mig)
    result = attachments.compute_rpc().volume_migration_start(
        ctxt, mig.compute_host, mig.instance_uuid, mig.attachment_id,
        migration_id=mig.id)
    LOG.info('Migration %s: writes of instance %s to volume %s are frozen '
             '(%s)', mig.id, mig.instance_uuid, mig.volume_id,
             (result or {}).get('mode'))
    _check_cancel(mig)
    return _start_copy(ctxt, mig)


def _start_copy(ctxt, mig):
    dest = mig.dest_backend
    if not _advance(mig, states.P_COPYING,
                    extra={'copy_host': dest.host,
                           'progress_updated_at': timeutils.utcnow()}):
        return False
    volume = db_api.volume_get(mig.volume_id)
    dst = db_api.volume_get(mig.dest_volume_id, include_hidden=True)
    try:
        # Another host's source is read over an export to dest.host.
        src = volumes.reach(ctxt, mig.source_backend, volume, dest.host)
    except Exception as exc:
        LOG.exception('Migration %s: the source cannot be exported to %s',
                      mig.id, dest.host)
        _start_rollback(db_api.migration_get(mig.id),
                        exception.describe(exc))
        return False
    LOG.info('Migration %s: copying volume %s (%d bytes) from %s to %s',
             mig.id, volume.id, volume.size, mig.source_backend.name,
             dest.name)
    volumes.volume_rpc().copy_volume(ctxt, dest.host, mig.id, volume.id,
                                     src, dest.name, dst.location,
                                     volume.size)
    return False


def _copying(ctxt, mig):
    # Nothing to do until the worker reports (copy_finished) or the
    # watchdog finds the copy gone, unless a cancel came meanwhile.
    _check_cancel(mig)
    return False


def copy_finished(migration_id, bytes_done, bytes_total, error):
    """The worker's report that the copy ended (any conductor)."""
    mig = db_api.migration_get(migration_id)
    if mig.phase != states.P_COPYING:
        LOG.info('Migration %s: copy report ignored in phase %s',
                 migration_id, mig.phase)
        return
    cancelled = bool(mig.cancel_requested)
    if error is None and not cancelled:
        following = machine.next_phase(mig)
        try:
            if _advance(mig, following,
                        extra={'bytes_done': bytes_done,
                               'bytes_total': bytes_total,
                               'progress_updated_at': timeutils.utcnow()}):
                spawn(migration_id)
            return
        except _Abort:
            cancelled = True    # recorded since mig was read: honoured
    _start_rollback(mig, rollback.CANCELLED if cancelled else error,
                    cancelled)


def _switching(ctxt, mig):
    if mig.dest_attachment_id is None:
        db_api.migration_update(
            mig.id, {'dest_attachment_id': uuidutils.generate_uuid()},
            expected={'phase': states.P_SWITCHING,
                      'dest_attachment_id': None})
        mig = db_api.migration_get(mig.id)
    volumes.close_copy_source(ctxt, mig)
    dst = db_api.volume_get(mig.dest_volume_id, include_hidden=True)
    # A destination of another host is exported to the compute host; it
    # stays the attachment's export after the migration.
    target = volumes.reach(ctxt, mig.dest_backend, dst, mig.compute_host,
                           writable=True)
    try:
        result = attachments.compute_rpc().volume_migration_complete(
            ctxt, mig.compute_host, mig.instance_uuid, mig.attachment_id,
            mig.dest_attachment_id, target, mig.id)
    except exception.MigrationGivenUp as exc:
        raise _Abort(exception.describe(exc), given_up=True)
    LOG.info('Migration %s: instance %s switched to the destination (%s)',
             mig.id, mig.instance_uuid, (result or {}).get('target'))
    return _advance(mig, machine.next_phase(mig))


def _finalizing(ctxt, mig):
    volumes.close_copy_source(ctxt, mig)
    following = machine.next_phase(mig)
    machine.check_move(mig.phase, following)
    status = machine.status_of(following)
    if not db_api.migration_switch_volume(
            mig.id, _expected(mig), {'phase': following, 'status': status},
            {'migration_status': status}):
        return False
    LOG.info('Migration %s: volume %s now lives on backend %s', mig.id,
             mig.volume_id, mig.dest_backend.name)
    return True


def _deleting_source(ctxt, mig):
    # Since finalizing, the hidden row holds what is left of the source.
    remains = db_api.volume_get(mig.dest_volume_id, include_hidden=True)
    volumes.destroy(ctxt, remains)
    if machine.next_phase(mig) == states.P_FOLDING:
        return _advance(mig, states.P_FOLDING)
    return _succeed(mig)


def _folding(ctxt, mig):
    if mig.fold_status is None:
        return False     # the compute agent reports the end
    if mig.fold_status == 'done':
        return _succeed(mig)
    machine.check_move(mig.phase, states.P_DONE)
    db_api.migration_and_volume_update(
        mig.id, {'phase': states.P_DONE, 'status': states.M_ERROR,
                 'finished_at': timeutils.utcnow()},
        mig.volume_id, {'migration_status': states.M_ERROR},
        expected={'phase': states.P_FOLDING})
    return False


def compute_finished(migration_id, operation, error):
    """The compute agent's report of the end of cancel or fold-in."""
    if operation == 'cancel':
        if error:
            LOG.error('Migration %s: the compute agent failed to write the '
                      'overlay back into the source: %s', migration_id,
                      error)
        else:
            LOG.info('Migration %s: the source is the guest\'s disk again',
                     migration_id)
        return
    if error is not None:
        db_api.migration_update(
            migration_id,
            {'fold_status': 'error',
             'error': 'the volume lives on the destination, but folding '
                      'the guest\'s overlay into it failed: %s' % error},
            expected={'fold_status': None})
    else:
        # A repeated report, or success after an error (the agent
        # finished the fold-in on its restart), ends up as done.
        mig = db_api.migration_get(migration_id)
        if mig.fold_status == 'error' and mig.phase == states.P_DONE:
            db_api.migration_and_volume_update(
                migration_id, {'fold_status': 'done', 'error': None,
                               'status': states.M_SUCCESS},
                mig.volume_id, {'migration_status': states.M_SUCCESS},
                expected={'fold_status': 'error', 'phase': states.P_DONE})
        else:
            db_api.migration_update(migration_id, {'fold_status': 'done'},
                                    expected={'fold_status': (None,
                                                              'error')})
    if db_api.migration_get(migration_id).phase == states.P_FOLDING:
        spawn(migration_id)


def _succeed(mig):
    machine.check_move(mig.phase, states.P_DONE)
    now = timeutils.utcnow()
    volume_values = {'migration_status': states.M_SUCCESS}
    if mig.force:
        volume_values['status'] = mig.previous_volume_status
    db_api.migration_and_volume_update(
        mig.id, {'phase': states.P_DONE, 'status': states.M_SUCCESS,
                 'finished_at': now, 'error': None,
                 'bytes_done': mig.bytes_total},
        mig.volume_id, volume_values,
        expected={'phase': mig.phase})
    LOG.info('Migration %s of volume %s succeeded', mig.id, mig.volume_id)
    return False


def _start_rollback(mig, reason, cancelled=False, given_up=False):
    if machine.may_roll_back(mig.phase, given_up) and rollback.record(
            mig, reason, cancelled):
        spawn(mig.id)


_HANDLERS = {
    states.P_QUEUED: _queued,
    states.P_CREATING_DESTINATION: _creating_destination,
    states.P_FREEZING: _freezing,
    states.P_COPYING: _copying,
    states.P_SWITCHING: _switching,
    states.P_FINALIZING: _finalizing,
    states.P_DELETING_SOURCE: _deleting_source,
    states.P_FOLDING: _folding,
    states.P_ROLLING_BACK: rollback.roll_back,
}


def cancel(migration_id):
    """A cancel request (the flag is already recorded by the API, or a
    queued migration already ended cancelled: the migrations queued
    after it may start)."""
    mig = db_api.migration_get(migration_id)
    if mig.phase == states.P_DONE:
        slots.start_queued(spawn)
    elif mig.phase == states.P_COPYING:
        _start_rollback(mig, rollback.CANCELLED, cancelled=True)
    elif mig.phase in machine.CANCELLABLE:
        # The thread running these phases checks the flag between steps;
        # make sure one runs.
        spawn(migration_id)
