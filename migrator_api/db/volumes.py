"""Volumes and their attachments."""

from oslo_utils import timeutils
from oslo_utils import uuidutils

from migrator_api.common import exception
from migrator_api.common import states
from migrator_api.db import models
from migrator_api.db import session as s


VOLUME_FILTERS = ('status', 'migration_status', 'backend_id', 'project_id',
                  'name')


def _update_volume_or_conflict(session, vol, values):
    """Update a volume read earlier in this transaction, unless another
    request changed its status since (then 409, and nothing changes)."""
    if not s.update(session, models.Volume, vol.id, values,
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


def volume_create(values):
    values = dict(values)
    values.setdefault('id', uuidutils.generate_uuid())
    values.setdefault('provider_id', values['id'])
    with s.writer() as session:
        row = models.Volume(**values)
        session.add(row)
    return volume_get(values['id'], include_hidden=True)


def volume_get(volume_id, include_hidden=False):
    filters = {} if include_hidden else {'hidden': False}
    return s.get(models.Volume, volume_id,
                 exception.VolumeNotFound(volume_id=volume_id), **filters)


def volume_get_all(filters=None, limit=None, marker=None,
                   include_hidden=False):
    filters = filters or {}
    with s.reader() as session:
        query = session.query(models.Volume)
        if not include_hidden:
            query = query.filter_by(hidden=False)
        for key in VOLUME_FILTERS:
            if key in filters:
                value = filters[key]
                column = getattr(models.Volume, key)
                query = query.filter(column.is_(None) if value is None
                                     else column == value)
        return s.paginate(query, models.Volume, limit, marker)


def volume_update(volume_id, values, expected=None):
    """Update a volume; False if it no longer matches ``expected``."""
    with s.writer() as session:
        return s.update(session, models.Volume, volume_id, values, expected)


def volume_destroy(volume_id, expected=None):
    with s.writer() as session:
        query = s.apply_expected(
            session.query(models.Volume).filter_by(id=volume_id),
            models.Volume, expected)
        return query.delete(synchronize_session=False) == 1


def attachment_create(volume_id, instance_uuid, host):
    """Record an attachment being made, atomically with its checks."""
    now = timeutils.utcnow()
    with s.writer() as session:
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


def attachment_get(attachment_id):
    return s.get(models.Attachment, attachment_id,
                 exception.AttachmentNotFound(attachment_id=attachment_id))


def attachment_update(attachment_id, values, expected=None):
    with s.writer() as session:
        return s.update(session, models.Attachment, attachment_id, values,
                        expected)


def attachment_start_detach(attachment_id):
    """Mark an attachment detaching (and its volume), or raise 409."""
    with s.writer() as session:
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
        s.update(session, models.Attachment, attachment_id,
                 {'status': states.A_DETACHING}, None)
        s.update(session, models.Volume, att.volume_id,
                 {'status': states.DETACHING}, None)
    return attachment_get(attachment_id)


def attachment_finish(attachment_id, attached, error=None, device=None):
    """End an attach (attached=True) or a detach (attached=False).

    The volume is in-use while any attachment is attached, available
    otherwise.  A failed attach removes its record; a failed detach
    leaves the attachment attached with the error.
    """
    with s.writer() as session:
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
        s.update(session, models.Volume, volume_id,
                 {'status': states.IN_USE if others else states.AVAILABLE},
                 None)


def attachment_get_all(volume_id=None, instance_uuid=None):
    with s.reader() as session:
        query = session.query(models.Attachment)
        if volume_id:
            query = query.filter_by(volume_id=volume_id)
        if instance_uuid:
            query = query.filter_by(instance_uuid=instance_uuid)
        return query.order_by(models.Attachment.created_at).all()


def volume_get_in_status(statuses):
    with s.reader() as session:
        return session.query(models.Volume).filter(
            models.Volume.status.in_(statuses)).all()
