"""What the REST layer asks of the system: validate, record, cast.

Each function checks what it can against the database (for a
migration: the admission rules of conductor.machine), records the
change (compare-and-swap, so a racing request gets a 409 and changes
nothing), then casts the work to the conductor.  Reads go straight to
``migrator_api.db.api``.
"""

import os
import time
import uuid

from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import timeutils

from migrator_api.common import exception
from migrator_api.common import states
from migrator_api.conductor import machine
from migrator_api.db import api as db_api
from migrator_api.rpcapi import compute as compute_rpcapi
from migrator_api.rpcapi import conductor as conductor_rpcapi

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


def service_is_up(service):
    if service is None or service.last_seen_at is None:
        return False
    age = timeutils.delta_seconds(service.last_seen_at, timeutils.utcnow())
    return age <= CONF.conductor.service_down_time


def backend_is_up(backend):
    return service_is_up(db_api.service_get(backend.host,
                                            states.BINARY_VOLUME))


def _usable_backend(ident):
    backend = db_api.backend_get(ident)
    if not backend_is_up(backend):
        raise exception.BackendUnavailable(
            backend=backend.name,
            reason='its volume worker on host %s is down' % backend.host)
    return backend


def create_volume(ctxt, size, backend, name=None):
    backend_row = _usable_backend(backend)
    free = backend_row.free_capacity_bytes
    if free is not None and size > free:
        raise exception.InsufficientCapacity(
            backend=backend_row.name, size=size,
            reason='%d bytes free' % free)
    volume = db_api.volume_create({
        'name': name, 'size': size, 'status': states.CREATING,
        'backend_id': backend_row.id, 'project_id': ctxt.project_id,
        'user_id': ctxt.user_id, 'hidden': False})
    conductor_rpcapi.ConductorAPI().create_volume(ctxt, volume.id)
    return volume


def delete_volume(ctxt, volume_id):
    volume = db_api.volume_get(volume_id)
    deletable = (states.AVAILABLE, states.ERROR, states.ERROR_DELETING)
    if volume.migration_status in states.MIGRATION_RUNNING:
        raise exception.VolumeMigrating(
            volume_id=volume_id, migration_id='-',
            migration_status=volume.migration_status)
    if db_api.attachment_get_all(volume_id=volume_id):
        raise exception.InvalidVolumeStatus(
            volume_id=volume_id, status=volume.status, action='delete',
            expected='detached')
    if not db_api.volume_update(
            volume_id, {'status': states.DELETING},
            expected={'status': deletable,
                      'migration_status':
                          (None,) + states.MIGRATION_FINISHED}):
        raise exception.InvalidVolumeStatus(
            volume_id=volume_id, status=volume.status, action='delete',
            expected=' or '.join(deletable))
    conductor_rpcapi.ConductorAPI().delete_volume(ctxt, volume_id)
    return db_api.volume_get(volume_id)


def create_migration(ctxt, volume_id, dest_backend, force=False):
    """Admit (conductor.machine's rules), record and start a migration."""
    facts = migration_facts(volume_id, dest_backend)
    machine.admit(facts)
    migration = record_migration(facts, force, ctxt.project_id)
    LOG.info('Migration %s of volume %s to backend %s accepted',
             migration.id, volume_id, facts.dest.name)
    conductor_rpcapi.ConductorAPI().start_migration(ctxt, migration.id)
    return migration


def _service_up(host, binary):
    service = db_api.service_get(host, binary)
    return None if service is None else service_is_up(service)


def migration_facts(volume_id, dest_backend):
    """What admission looks at (machine.Facts), read now."""
    dest = db_api.backend_get(dest_backend)
    volume = db_api.volume_get(volume_id)
    running = db_api.migration_get_all(
        {'volume_id': volume_id, 'status': list(states.MIGRATION_RUNNING)},
        limit=1)
    # Their destinations are not created yet (so not in its capacity).
    queued = db_api.migration_get_all(
        {'phase': [states.P_QUEUED, states.P_CREATING_DESTINATION],
         'dest_backend_id': dest.id})
    return machine.Facts(
        volume=volume, source=volume.backend, dest=dest,
        attachments=db_api.attachment_get_all(volume_id=volume_id),
        running=running[0] if running else None, up=_service_up,
        queued_bytes=sum(m.bytes_total for m in queued))


def _ordered_uuid():
    """A UUID (version 7) that sorts by the time it was made: the queue's
    order is ``created_at`` then id, and MariaDB's DATETIME keeps whole
    seconds, so within one second the id tells the order of acceptance
    (milliseconds, then a fraction of one)."""
    ms, sub = divmod(time.time_ns(), 1000000)
    value = ((ms & (1 << 48) - 1) << 80 | 0x7 << 76 |
             (sub * 4096 // 1000000) << 64 | 0b10 << 62 |
             int.from_bytes(os.urandom(8), 'big') & (1 << 62) - 1)
    return str(uuid.UUID(int=value))


def record_migration(facts, force, project_id=None):
    """Record an admitted migration in its first phase (``queued``:
    nothing is created before it takes its slots, conductor.slots), and
    its volume's migration status (and ``maintenance`` with force), if
    the volume has not changed since ``facts`` were read (else 409,
    nothing recorded).  ``created_at`` is its place in the queue;
    ``started_at`` is set when it leaves the queue."""
    volume, now = facts.volume, timeutils.utcnow()
    att = facts.attachments[0] if facts.attachments else None
    first = next(iter(machine.PHASES))
    values = {
        'id': _ordered_uuid(), 'volume_id': volume.id,
        'source_backend_id': volume.backend_id,
        'dest_backend_id': facts.dest.id, 'phase': first,
        'status': machine.status_of(first), 'force': bool(force),
        'previous_volume_status': volume.status, 'bytes_done': 0,
        'bytes_total': volume.size, 'started_at': None, 'created_at': now,
        'frozen': False, 'attachment_id': att and att.id,
        'instance_uuid': att and att.instance_uuid,
        'compute_host': att and att.host}
    volume_values = {'migration_status': values['status']}
    if force:
        volume_values['status'] = states.MAINTENANCE
    return db_api.migration_create(
        values, volume.id,
        {'status': volume.status, 'backend_id': volume.backend_id,
         'migration_status': volume.migration_status}, volume_values)


def _cancel_queued(mig):
    """End a queued migration cancelled at once (nothing was created):
    True, or False if it left the queue meanwhile."""
    machine.check_move(states.P_QUEUED, states.P_DONE)
    volume_values = {'migration_status': states.M_CANCELLED}
    if mig.force:
        volume_values['status'] = mig.previous_volume_status
    if not db_api.migration_and_volume_update(
            mig.id, {'phase': states.P_DONE, 'status': states.M_CANCELLED,
                     'cancel_requested': True,
                     'finished_at': timeutils.utcnow()},
            mig.volume_id, volume_values,
            expected={'phase': states.P_QUEUED,
                      'status': states.M_QUEUED}):
        return False
    LOG.info('Queued migration %s of volume %s cancelled', mig.id,
             mig.volume_id)
    return True


def _request_cancel(mig):
    """Cancel a queued migration at once, else record the request (the
    conductor rolls the migration back); False if it is past cancel."""
    if mig.phase == states.P_QUEUED and _cancel_queued(mig):
        return True
    return db_api.migration_update(
        mig.id, {'cancel_requested': True},
        expected={'status': states.MIGRATION_CANCELLABLE,
                  'phase': machine.CANCELLABLE})


def cancel_migration(ctxt, migration_id):
    migration = db_api.migration_get(migration_id)
    if not _request_cancel(migration):
        current = db_api.migration_get(migration_id)
        raise exception.InvalidMigrationStatus(
            migration_id=migration_id,
            status='%s (phase %s)' % (current.status, current.phase),
            action='cancel it (only a migration that is queued, starting '
                   'or copying can be cancelled)')
    LOG.info('Cancel of migration %s (volume %s) requested', migration_id,
             migration.volume_id)
    # A queued one ended: the conductor starts those queued after it.
    conductor_rpcapi.ConductorAPI().cancel_migration(ctxt, migration_id)
    return db_api.migration_get(migration_id)


def _compute_service_up(host):
    machine.require_compute(_service_up(host, states.BINARY_COMPUTE), host)


def _abort_running_migration(ctxt, volume_id, action):
    """Attach and detach abort a migration that is not forced.

    A forced migration holds the volume in maintenance: the request is
    refused (409).  Otherwise the migration is cancelled and rolled back
    before the attach or detach goes on.
    """
    running = [m for m in db_api.migration_get_all(
        {'volume_id': volume_id, 'status': list(states.MIGRATION_RUNNING)})]
    for mig in running:
        if mig.force:
            raise exception.InvalidVolumeStatus(
                volume_id=volume_id, status=states.MAINTENANCE,
                action=action, expected='out of maintenance (migration %s '
                'was started with force)' % mig.id)
        if mig.status in states.MIGRATION_CANCELLABLE:
            LOG.info('%s of volume %s aborts its migration %s',
                     action.capitalize(), volume_id, mig.id)
            _request_cancel(mig)
            conductor_rpcapi.ConductorAPI().cancel_migration(ctxt, mig.id)
        deadline = timeutils.utcnow_ts() + CONF.conductor.abort_timeout
        while timeutils.utcnow_ts() < deadline:
            if db_api.migration_get(mig.id).status not in \
                    states.MIGRATION_RUNNING:
                break
            time.sleep(0.2)
        else:
            raise exception.VolumeMigrating(
                volume_id=volume_id, migration_id=mig.id,
                migration_status=db_api.migration_get(mig.id).status)


def attach_volume(ctxt, volume_id, instance_uuid, host):
    volume = db_api.volume_get(volume_id)
    _compute_service_up(host)
    compute_rpcapi.ComputeAPI(
        timeout=CONF.conductor.rpc_call_timeout).get_instance(
            ctxt, host, instance_uuid)
    if volume.migration_status in states.MIGRATION_RUNNING:
        _abort_running_migration(ctxt, volume_id, 'attach')
    attachment = db_api.attachment_create(volume_id, instance_uuid, host)
    conductor_rpcapi.ConductorAPI().attach_volume(ctxt, attachment.id)
    return attachment


def detach_volume(ctxt, attachment_id):
    attachment = db_api.attachment_get(attachment_id)
    volume = db_api.volume_get(attachment.volume_id)
    if volume.migration_status in states.MIGRATION_RUNNING:
        _abort_running_migration(ctxt, volume.id, 'detach')
    attachment = db_api.attachment_start_detach(attachment_id)
    conductor_rpcapi.ConductorAPI().detach_volume(ctxt, attachment_id)
    return attachment
