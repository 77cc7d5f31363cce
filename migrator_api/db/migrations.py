"""Migrations: records, and the compare-and-swap writes the conductor's
state machine (conductor.machine) asks for.  No rule of the machine is
decided here: the callers name the values to write and the values the
rows must still hold."""

from oslo_db import api as oslo_db_api
from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from migrator_api.common import exception
from migrator_api.common import states
from migrator_api.db import models
from migrator_api.db import session as s


MIGRATION_FILTERS = ('status', 'phase', 'volume_id', 'source_backend_id',
                     'dest_backend_id')


def migration_create(values, volume_id, volume_expected, volume_values):
    """Record a migration (``values``) and update its volume, in one
    transaction, if the volume still holds ``volume_expected``; else
    Conflict (409), and nothing is written.  The rules a migration must
    pass were checked before (conductor.machine.admit)."""
    with s.writer() as session:
        if not s.update(session, models.Volume, volume_id, volume_values,
                        dict(volume_expected, hidden=False)):
            raise exception.Conflict(
                reason='volume %s changed during the request' % volume_id)
        session.add(models.Migration(**values))
    return migration_get(values['id'])


def migration_get(migration_id):
    return s.get(models.Migration, migration_id,
                 exception.MigrationNotFound(migration_id=migration_id))


def migration_get_all(filters=None, limit=None, marker=None):
    filters = filters or {}
    with s.reader() as session:
        query = session.query(models.Migration)
        for key in MIGRATION_FILTERS:
            if filters.get(key) is not None:
                value = filters[key]
                column = getattr(models.Migration, key)
                query = query.filter(column.in_(value)
                                     if isinstance(value, (list, tuple))
                                     else column == value)
        return s.paginate(query, models.Migration, limit, marker)


def migration_update(migration_id, values, expected=None):
    """Update a migration; False if it no longer matches ``expected``."""
    with s.writer() as session:
        return s.update(session, models.Migration, migration_id, values,
                        expected)


def migration_claims_update(migration_ids, values, expected):
    """Write the claim of the migrations (``conductor_host``,
    ``claimed_at``) whose rows still hold ``expected``; the ids written.

    ``updated_at`` is left as it is: a claim is no change of the
    migration (the watchdog and the API read updated_at as the time of
    its last move).
    """
    if not migration_ids:
        return []
    with s.writer() as session:
        query = s.apply_expected(
            session.query(models.Migration.id).filter(
                models.Migration.id.in_(list(migration_ids))),
            models.Migration, expected)
        ids = [row.id for row in query.with_for_update()]
        if ids:
            session.query(models.Migration).filter(
                models.Migration.id.in_(ids)).update(
                    dict(values), synchronize_session=False)
        return ids


def migration_and_volume_update(migration_id, migration_values, volume_id,
                                volume_values, expected=None):
    """Update a migration and its volume in one transaction.

    ``expected`` guards the migration row; nothing changes when it does
    not match.
    """
    with s.writer() as session:
        if not s.update(session, models.Migration, migration_id,
                        migration_values, expected):
            return False
        if volume_values:
            s.update(session, models.Volume, volume_id, volume_values, None)
        return True


def _locked(session, migration_id, expected):
    """The migration row, locked for this transaction, if it still holds
    ``expected``; else None.  (``of``: PostgreSQL locks no row of the
    backends joined in, which it refuses for an outer join.)"""
    return s.apply_expected(
        session.query(models.Migration).filter_by(id=migration_id),
        models.Migration, expected).with_for_update(
            of=models.Migration).one_or_none()


def migration_switch_volume(migration_id, expected, values, volume_values):
    """Make the user's volume live on the destination, atomically.

    The user's volume takes the destination's backend, location,
    provider id and size; the hidden destination row takes the source's
    (it becomes what is left of the source, deleted next); an attachment
    being migrated takes its destination id.  The migration gets
    ``values`` and the volume ``volume_values``; nothing is written
    unless the migration still holds ``expected``.
    """
    now = timeutils.utcnow()
    with s.writer() as session:
        mig = _locked(session, migration_id, expected)
        if mig is None:
            return False
        vol = session.query(models.Volume).filter_by(
            id=mig.volume_id).with_for_update(of=models.Volume).one()
        dst = session.query(models.Volume).filter_by(
            id=mig.dest_volume_id).with_for_update(of=models.Volume).one()
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
        for key, value in dict(values, updated_at=now).items():
            setattr(mig, key, value)
        for key, value in volume_values.items():
            setattr(vol, key, value)
        return True


def _lock_services(session, services):
    """Lock the service rows ``(host, binary)``, one at a time in a fixed
    order (no deadlock between two callers), by an UPDATE that changes
    nothing: the first statement of the transaction, so that SQLite
    takes its write lock before anything is read, and MariaDB and
    PostgreSQL make a second caller wait until the first commits."""
    for host, binary in sorted(set(services)):
        session.query(models.Service).filter_by(
            host=host, binary=binary).update(
                {'updated_at': models.Service.updated_at},
                synchronize_session=False)


def _sharing(session, hosts, compute_host):
    """The unfinished migrations that may share a slot with a migration
    whose backends are on ``hosts`` (and whose guest is on
    ``compute_host``), read with a share lock (MariaDB: the latest
    committed rows, not a snapshot of the transaction's start); and the
    host of every backend."""
    host_of = {row.id: row.host for row in session.query(
        models.Backend.id, models.Backend.host)}
    backend_ids = [bid for bid, host in host_of.items() if host in hosts]
    m = models.Migration
    near = [m.source_backend_id.in_(backend_ids),
            m.dest_backend_id.in_(backend_ids)]
    if compute_host is not None:
        near.append(m.compute_host == compute_host)
    others = session.query(
        m.id, m.status, m.created_at, m.source_backend_id,
        m.dest_backend_id, m.compute_host).filter(
            m.status.in_(states.MIGRATION_RUNNING), sa.or_(*near)
    ).with_for_update(read=True).all()
    return others, host_of


@oslo_db_api.wrap_db_retry(max_retries=5, retry_on_deadlock=True)
def migration_create_destination(migration_id, volume_values, expected,
                                 values, migration_volume_values=None,
                                 slots=None):
    """Record the hidden destination volume (``volume_values``) and give
    the migration ``values`` with the new volume's id as
    ``dest_volume_id`` (and its volume ``migration_volume_values``), in
    one transaction, if the migration still holds ``expected``.

    ``slots``, when the start is limited: ``(services, hosts,
    compute_host, check)``.  The service rows ``services`` are locked
    first (every start that may compete for a slot locks one of the
    same rows, so they take turns), then ``check(mig, others,
    host_of)`` (the state machine's rule) is given the migration, the
    unfinished migrations that may share a slot with it (``_sharing``)
    and the backends' hosts, and answers why it must wait, or None.

    Returns ``(id, None)`` when written, ``(None, reason)`` when it
    must wait, ``(None, None)`` when the migration no longer holds
    ``expected``; nothing is written but in the first case.
    """
    with s.writer() as session:
        if slots is not None:
            _lock_services(session, slots[0])
        mig = _locked(session, migration_id, expected)
        if mig is None:
            return None, None
        if slots is not None:
            others, host_of = _sharing(session, slots[1], slots[2])
            reason = slots[3](mig, others, host_of)
            if reason is not None:
                return None, reason
        volume_values = dict(volume_values)
        volume_values.setdefault('id', uuidutils.generate_uuid())
        volume_values.setdefault('provider_id', volume_values['id'])
        session.add(models.Volume(hidden=True, status=states.CREATING,
                                  **volume_values))
        values = dict(values, dest_volume_id=volume_values['id'],
                      updated_at=timeutils.utcnow())
        for key, value in values.items():
            setattr(mig, key, value)
        if migration_volume_values:
            s.update(session, models.Volume, mig.volume_id,
                     migration_volume_values, None)
        return volume_values['id'], None


def migration_get_queued():
    """The queued migrations, in the order they were accepted."""
    with s.reader() as session:
        return session.query(models.Migration).filter(
            models.Migration.phase == states.P_QUEUED).order_by(
                models.Migration.created_at, models.Migration.id).all()


def migration_get_running():
    with s.reader() as session:
        return session.query(models.Migration).filter(
            models.Migration.status.in_(states.MIGRATION_RUNNING)).all()
