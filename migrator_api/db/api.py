"""Database access: every function is one transaction.

State changes that race (two migrate requests for one volume, a report
arriving after a cancel) are compare-and-swap updates: ``expected``
names the values a row must still hold, and a row that no longer holds
them is left alone and reported with ``None``/``False``.
"""

import contextlib
import threading

from oslo_db.sqlalchemy import enginefacade
from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from migrator_api.common import exception
from migrator_api.common import states
from migrator_api.db import models

_MAIN = None
# SQLite (the embedded default, one process) allows one writer at a time
# and fails, rather than waits, when a reading transaction turns into a
# writing one while another writes: writers take turns in the process.
_SQLITE_WRITE_LOCK = threading.RLock()
_serialize_writes = False


@enginefacade.transaction_context_provider
class _TxContext:
    """A private holder for one transaction."""


def configure(conf):
    """Point the API at [database] connection (fresh engine each call)."""
    global _MAIN
    dispose()
    global _serialize_writes
    ctx = enginefacade.transaction_context()
    ctx.configure(**dict(conf.database.items()))
    _MAIN = ctx
    engine = ctx.writer.get_engine()
    _serialize_writes = engine.dialect.name == 'sqlite'
    if _serialize_writes:
        sa.event.listen(engine, 'connect', _sqlite_pragmas)
        engine.dispose()


def _sqlite_pragmas(dbapi_conn, record):
    cursor = dbapi_conn.cursor()
    cursor.execute('PRAGMA journal_mode=WAL')
    cursor.execute('PRAGMA busy_timeout=30000')
    cursor.execute('PRAGMA foreign_keys=ON')
    cursor.close()


def dispose():
    global _MAIN
    if _MAIN is not None:
        try:
            _MAIN.writer.get_engine().dispose()
        except Exception:
            pass
    _MAIN = None


def get_engine():
    return _MAIN.writer.get_engine()


@contextlib.contextmanager
def _writer():
    if not _serialize_writes:
        with _MAIN.writer.using(_TxContext()) as session:
            yield session
        return
    with _SQLITE_WRITE_LOCK:
        with _MAIN.writer.using(_TxContext()) as session:
            yield session


def _reader():
    return _MAIN.reader.using(_TxContext())


def _apply_expected(query, model, expected):
    for key, value in (expected or {}).items():
        column = getattr(model, key)
        if isinstance(value, (tuple, list, set, frozenset)):
            values = list(value)
            if None in values:
                values.remove(None)
                query = query.filter(sa.or_(column.in_(values),
                                            column.is_(None)))
            else:
                query = query.filter(column.in_(values))
        elif value is None:
            query = query.filter(column.is_(None))
        else:
            query = query.filter(column == value)
    return query


def _update(session, model, row_id, values, expected):
    query = _apply_expected(session.query(model).filter_by(id=row_id),
                            model, expected)
    values = dict(values)
    values.setdefault('updated_at', timeutils.utcnow())
    return query.update(values, synchronize_session=False) == 1


def _update_volume_or_conflict(session, vol, values):
    """Update a volume read earlier in this transaction, unless another
    request changed its status since (then 409, and nothing changes)."""
    if not _update(session, models.Volume, vol.id, values,
                   {'status': vol.status}):
        raise exception.Conflict(
            reason='volume %s changed during the request' % vol.id)


def _running_migration(session, volume_id):
    """Raise VolumeMigrating if a migration of the volume is running."""
    running = session.query(models.Migration).filter(
        models.Migration.volume_id == volume_id,
        models.Migration.status.in_(states.MIGRATION_RUNNING)).first()
    if running is not None:
        raise exception.VolumeMigrating(
            volume_id=volume_id, migration_id=running.id,
            migration_status=running.status)


def _paginate(query, model, limit, marker, sort_key='created_at'):
    sort_col = getattr(model, sort_key)
    if marker is not None:
        marker_row = query.session.query(model).filter_by(
            id=marker).one_or_none()
        if marker_row is None:
            raise exception.InvalidInput(
                reason='marker %s does not exist' % marker)
        mval = getattr(marker_row, sort_key)
        query = query.filter(sa.or_(sort_col > mval,
                                    sa.and_(sort_col == mval,
                                            model.id > marker)))
    query = query.order_by(sort_col, model.id)
    if limit is not None:
        query = query.limit(limit)
    return query.all()


# Services -----------------------------------------------------------------

def service_report(host, binary):
    now = timeutils.utcnow()
    with _writer() as session:
        row = session.query(models.Service).filter_by(
            host=host, binary=binary).one_or_none()
        if row is None:
            row = models.Service(host=host, binary=binary)
            session.add(row)
        row.last_seen_at = now
        session.flush()
        session.expunge(row)
        return row


def service_get_all(binary=None, host=None):
    with _reader() as session:
        query = session.query(models.Service)
        if binary:
            query = query.filter_by(binary=binary)
        if host:
            query = query.filter_by(host=host)
        return query.order_by(models.Service.id).all()


def service_get(host, binary):
    with _reader() as session:
        return session.query(models.Service).filter_by(
            host=host, binary=binary).one_or_none()


# Backends -----------------------------------------------------------------

def backend_sync(host, reports):
    """Record the backends a worker serves, as it just reported them."""
    with _writer() as session:
        for report in reports or []:
            row = session.query(models.Backend).filter_by(
                name=report['name']).one_or_none()
            if row is None:
                row = models.Backend(id=uuidutils.generate_uuid(),
                                     name=report['name'])
                session.add(row)
            row.host = host
            row.backend_type = report['backend_type']
            row.capabilities = dict(report.get('capabilities') or {})
            row.total_capacity_bytes = report.get('total_capacity_bytes')
            row.free_capacity_bytes = report.get('free_capacity_bytes')
            row.updated_at = timeutils.utcnow()


def backend_get_all(filters=None):
    filters = filters or {}
    with _reader() as session:
        query = session.query(models.Backend)
        for key in ('name', 'host', 'backend_type'):
            if filters.get(key) is not None:
                query = query.filter(getattr(models.Backend, key)
                                     == filters[key])
        return query.order_by(models.Backend.name).all()


def backend_get(ident):
    """A backend by id or by name."""
    with _reader() as session:
        row = session.query(models.Backend).filter(
            sa.or_(models.Backend.id == ident,
                   models.Backend.name == ident)).one_or_none()
        if row is None:
            raise exception.BackendNotFound(backend=ident)
        return row


# Volumes ------------------------------------------------------------------

VOLUME_FILTERS = ('status', 'migration_status', 'backend_id', 'project_id',
                  'name')


def volume_create(values):
    values = dict(values)
    values.setdefault('id', uuidutils.generate_uuid())
    values.setdefault('provider_id', values['id'])
    with _writer() as session:
        row = models.Volume(**values)
        session.add(row)
    return volume_get(values['id'], include_hidden=True)


def volume_get(volume_id, include_hidden=False):
    filters = {} if include_hidden else {'hidden': False}
    return _get(models.Volume, volume_id,
                exception.VolumeNotFound(volume_id=volume_id), **filters)


def volume_get_all(filters=None, limit=None, marker=None,
                   include_hidden=False):
    filters = filters or {}
    with _reader() as session:
        query = session.query(models.Volume)
        if not include_hidden:
            query = query.filter_by(hidden=False)
        for key in VOLUME_FILTERS:
            if key in filters:
                value = filters[key]
                column = getattr(models.Volume, key)
                query = query.filter(column.is_(None) if value is None
                                     else column == value)
        return _paginate(query, models.Volume, limit, marker)


def volume_update(volume_id, values, expected=None):
    """Update a volume; False if it no longer matches ``expected``."""
    with _writer() as session:
        return _update(session, models.Volume, volume_id, values, expected)


def volume_destroy(volume_id, expected=None):
    with _writer() as session:
        query = _apply_expected(
            session.query(models.Volume).filter_by(id=volume_id),
            models.Volume, expected)
        return query.delete(synchronize_session=False) == 1


# Attachments --------------------------------------------------------------

def attachment_create(volume_id, instance_uuid, host):
    """Record an attachment being made, atomically with its checks."""
    now = timeutils.utcnow()
    with _writer() as session:
        vol = session.query(models.Volume).filter_by(
            id=volume_id, hidden=False).one_or_none()
        if vol is None:
            raise exception.VolumeNotFound(volume_id=volume_id)
        if vol.status not in (states.AVAILABLE, states.IN_USE):
            raise exception.InvalidVolumeStatus(
                volume_id=volume_id, status=vol.status, action='attach',
                expected='available or in-use')
        _running_migration(session, volume_id)
        if session.query(models.Attachment).filter_by(
                volume_id=volume_id, instance_uuid=instance_uuid).first():
            raise exception.Conflict(
                reason='volume %s is already attached to instance %s'
                       % (volume_id, instance_uuid))
        row = models.Attachment(id=uuidutils.generate_uuid(),
                                volume_id=volume_id,
                                instance_uuid=instance_uuid, host=host,
                                status=states.A_ATTACHING, created_at=now)
        session.add(row)
        _update_volume_or_conflict(session, vol, {'status': states.ATTACHING})
        attachment_id = row.id
    return attachment_get(attachment_id)


def _get(model, row_id, not_found, **filters):
    with _reader() as session:
        row = session.query(model).filter_by(id=row_id,
                                             **filters).one_or_none()
        if row is None:
            raise not_found
        return row


def attachment_get(attachment_id):
    return _get(models.Attachment, attachment_id,
                exception.AttachmentNotFound(attachment_id=attachment_id))


def attachment_update(attachment_id, values, expected=None):
    with _writer() as session:
        return _update(session, models.Attachment, attachment_id, values,
                       expected)


def attachment_start_detach(attachment_id):
    """Mark an attachment detaching (and its volume), or raise 409."""
    with _writer() as session:
        att = session.query(models.Attachment).filter_by(
            id=attachment_id).one_or_none()
        if att is None:
            raise exception.AttachmentNotFound(attachment_id=attachment_id)
        vol = session.query(models.Volume).filter_by(id=att.volume_id).one()
        _running_migration(session, att.volume_id)
        if att.status not in (states.A_ATTACHED, states.A_ERROR) or \
                vol.status != states.IN_USE:
            raise exception.InvalidVolumeStatus(
                volume_id=att.volume_id,
                status='%s (attachment %s)' % (vol.status, att.status),
                action='detach', expected='in-use')
        _update(session, models.Attachment, attachment_id,
                {'status': states.A_DETACHING}, None)
        _update(session, models.Volume, att.volume_id,
                {'status': states.DETACHING}, None)
    return attachment_get(attachment_id)


def attachment_finish(attachment_id, attached, error=None, device=None):
    """End an attach (attached=True) or a detach (attached=False).

    The volume is in-use while any attachment is attached, available
    otherwise.  A failed attach removes its record; a failed detach
    leaves the attachment attached with the error.
    """
    with _writer() as session:
        att = session.query(models.Attachment).filter_by(
            id=attachment_id).one_or_none()
        if att is None:
            return
        volume_id = att.volume_id
        if error is not None and att.status == states.A_ATTACHING:
            session.delete(att)
        elif error is not None:
            att.status, att.error = states.A_ATTACHED, error
        elif attached:
            att.status, att.error, att.device = states.A_ATTACHED, None, device
        else:
            session.delete(att)
        session.flush()
        others = session.query(models.Attachment).filter_by(
            volume_id=volume_id, status=states.A_ATTACHED).count()
        _update(session, models.Volume, volume_id,
                {'status': states.IN_USE if others else states.AVAILABLE},
                None)


def attachment_get_all(volume_id=None, instance_uuid=None):
    with _reader() as session:
        query = session.query(models.Attachment)
        if volume_id:
            query = query.filter_by(volume_id=volume_id)
        if instance_uuid:
            query = query.filter_by(instance_uuid=instance_uuid)
        return query.order_by(models.Attachment.created_at).all()


# Migrations ---------------------------------------------------------------

MIGRATION_FILTERS = ('status', 'phase', 'volume_id', 'source_backend_id',
                     'dest_backend_id')


def migration_create(volume_id, dest_backend_id, force, project_id=None):
    """Check the volume may migrate and record the migration, atomically.

    Raises a 4xx/409 exception and changes nothing when the volume is
    unknown, already migrating, already on the destination backend or in
    a status that forbids a migration.
    """
    now = timeutils.utcnow()
    with _writer() as session:
        vol = session.query(models.Volume).filter_by(
            id=volume_id, hidden=False).with_for_update().one_or_none()
        if vol is None:
            raise exception.VolumeNotFound(volume_id=volume_id)
        _running_migration(session, volume_id)
        if vol.backend_id == dest_backend_id:
            raise exception.SameBackend(volume_id=volume_id,
                                        backend=vol.backend.name)
        if vol.status not in states.MIGRATABLE_VOLUME_STATUSES:
            raise exception.InvalidVolumeStatus(
                volume_id=volume_id, status=vol.status, action='migrate',
                expected=' or '.join(states.MIGRATABLE_VOLUME_STATUSES))
        attachments = session.query(models.Attachment).filter_by(
            volume_id=volume_id).all()
        if len(attachments) > 1:
            raise exception.MultiAttachRefused(volume_id=volume_id,
                                               count=len(attachments))
        attachment = attachments[0] if attachments else None
        if attachment is not None and attachment.status != states.A_ATTACHED:
            raise exception.InvalidVolumeStatus(
                volume_id=volume_id, status='%s (attachment %s)' % (
                    attachment.status, attachment.id),
                action='migrate', expected='attached or detached')
        migration = models.Migration(
            id=uuidutils.generate_uuid(), volume_id=volume_id,
            source_backend_id=vol.backend_id,
            dest_backend_id=dest_backend_id, status=states.M_STARTING,
            phase=states.P_QUEUED, force=bool(force),
            previous_volume_status=vol.status, bytes_done=0,
            bytes_total=vol.size, started_at=now, created_at=now,
            frozen=False, attachment_id=attachment and attachment.id,
            instance_uuid=attachment and attachment.instance_uuid,
            compute_host=attachment and attachment.host)
        session.add(migration)
        values = {'migration_status': states.M_STARTING, 'updated_at': now}
        if force:
            values['status'] = states.MAINTENANCE
        _update_volume_or_conflict(session, vol, values)
        migration_id = migration.id
    return migration_get(migration_id)


def migration_get(migration_id):
    return _get(models.Migration, migration_id,
                exception.MigrationNotFound(migration_id=migration_id))


def migration_get_all(filters=None, limit=None, marker=None):
    filters = filters or {}
    with _reader() as session:
        query = session.query(models.Migration)
        for key in MIGRATION_FILTERS:
            if filters.get(key) is not None:
                value = filters[key]
                column = getattr(models.Migration, key)
                query = query.filter(column.in_(value)
                                     if isinstance(value, (list, tuple))
                                     else column == value)
        return _paginate(query, models.Migration, limit, marker)


def migration_update(migration_id, values, expected=None):
    """Update a migration; False if it no longer matches ``expected``."""
    with _writer() as session:
        return _update(session, models.Migration, migration_id, values,
                       expected)


def migration_and_volume_update(migration_id, migration_values, volume_id,
                                volume_values, expected=None):
    """Update a migration and its volume in one transaction.

    ``expected`` guards the migration row; nothing changes when it does
    not match.
    """
    with _writer() as session:
        if not _update(session, models.Migration, migration_id,
                       migration_values, expected):
            return False
        if volume_values:
            _update(session, models.Volume, volume_id, volume_values, None)
        return True


def migration_switch_volume(migration, expected_phase):
    """Make the user's volume live on the destination, atomically.

    The user's volume takes the destination's backend and location; the
    hidden destination row takes the source's, so that deleting it
    deletes the old data.  Recorded as phase deleting_source.
    """
    now = timeutils.utcnow()
    with _writer() as session:
        mig = _apply_expected(
            session.query(models.Migration).filter_by(id=migration.id),
            models.Migration, {'phase': expected_phase}).with_for_update(
        ).one_or_none()
        if mig is None:
            return False
        vol = session.query(models.Volume).filter_by(
            id=mig.volume_id).with_for_update().one()
        dst = session.query(models.Volume).filter_by(
            id=mig.dest_volume_id).with_for_update().one()
        src = (vol.backend_id, vol.location, vol.provider_id, vol.size)
        vol.backend_id, vol.location, vol.provider_id, vol.size = (
            dst.backend_id, dst.location, dst.provider_id, dst.size)
        dst.backend_id, dst.location, dst.provider_id, dst.size = src
        dst.status = states.DELETING
        vol.updated_at = dst.updated_at = now
        if mig.attachment_id is not None:
            # The compute agent now knows the attachment by its new id.
            session.query(models.Attachment).filter_by(
                id=mig.attachment_id).update(
                    {'id': mig.dest_attachment_id, 'updated_at': now},
                    synchronize_session=False)
        mig.phase = states.P_DELETING_SOURCE
        mig.status = states.M_COMPLETING
        mig.updated_at = now
        vol.migration_status = states.M_COMPLETING
        return True


def migration_create_destination(migration_id, volume_values):
    """Record the hidden destination volume, then phase
    creating_destination, in one transaction (before the worker is
    asked to create it); None if the migration is no longer queued or
    a cancel was recorded."""
    with _writer() as session:
        mig = session.query(models.Migration).filter_by(
            id=migration_id, phase=states.P_QUEUED,
            cancel_requested=False).with_for_update().one_or_none()
        if mig is None:
            return None
        values = dict(volume_values)
        values.setdefault('id', uuidutils.generate_uuid())
        values.setdefault('provider_id', values['id'])
        session.add(models.Volume(hidden=True, status=states.CREATING,
                                  **values))
        mig.dest_volume_id = values['id']
        mig.phase = states.P_CREATING_DESTINATION
        mig.updated_at = timeutils.utcnow()
        return values['id']


def migration_get_running():
    with _reader() as session:
        return session.query(models.Migration).filter(
            models.Migration.status.in_(states.MIGRATION_RUNNING)).all()


def volume_get_in_status(statuses):
    with _reader() as session:
        return session.query(models.Volume).filter(
            models.Volume.status.in_(statuses)).all()
