"""Exceptions shared by every migrator service.

Each carries the HTTP status the API answers with and a stable error
code (API-SIG ``code``), so an error raised deep in a flow reaches the
user unchanged.  Agents raise the same classes; oslo.messaging carries
them back to the caller by module and class name.
"""


class MigratorException(Exception):
    code = 500
    error_code = 'migrator.internal'
    title = 'Internal error'
    msg_fmt = 'An unknown error occurred.'

    def __init__(self, message=None, **kwargs):
        self.kwargs = kwargs
        if message is None:
            try:
                message = self.msg_fmt % kwargs
            except (KeyError, TypeError):
                message = self.msg_fmt
        self.message = str(message)
        super().__init__(self.message)

    def __str__(self):
        return self.message


class Invalid(MigratorException):
    code = 400
    error_code = 'migrator.invalid'
    title = 'Bad request'
    msg_fmt = 'Invalid request: %(reason)s'


class InvalidInput(Invalid):
    error_code = 'migrator.invalid_input'
    msg_fmt = 'Invalid input: %(reason)s'


class NotAuthorized(MigratorException):
    code = 403
    error_code = 'migrator.forbidden'
    title = 'Forbidden'
    msg_fmt = 'Policy does not allow %(action)s to be performed.'


class NotFound(MigratorException):
    code = 404
    error_code = 'migrator.not_found'
    title = 'Not found'
    msg_fmt = 'Resource could not be found.'


class VolumeNotFound(NotFound):
    error_code = 'migrator.volume_not_found'
    msg_fmt = 'Volume %(volume_id)s could not be found.'


class BackendNotFound(NotFound):
    error_code = 'migrator.backend_not_found'
    msg_fmt = 'Backend %(backend)s could not be found.'


class MigrationNotFound(NotFound):
    error_code = 'migrator.migration_not_found'
    msg_fmt = 'Migration %(migration_id)s could not be found.'


class AttachmentNotFound(NotFound):
    error_code = 'migrator.attachment_not_found'
    msg_fmt = 'Attachment %(attachment_id)s could not be found.'


class InstanceNotFound(NotFound):
    error_code = 'migrator.instance_not_found'
    msg_fmt = 'Instance %(instance)s was not found on host %(host)s.'


class ServiceNotFound(NotFound):
    error_code = 'migrator.service_not_found'
    msg_fmt = 'Service %(service)s could not be found.'


class Conflict(MigratorException):
    code = 409
    error_code = 'migrator.conflict'
    title = 'Conflict'
    msg_fmt = 'The request conflicts with the current state: %(reason)s'


class InvalidVolumeStatus(Conflict):
    error_code = 'migrator.invalid_volume_status'
    msg_fmt = ('Volume %(volume_id)s is %(status)s; %(action)s needs it '
               'to be %(expected)s.')


class VolumeMigrating(Conflict):
    error_code = 'migrator.volume_migrating'
    msg_fmt = ('Volume %(volume_id)s is being migrated (migration '
               '%(migration_id)s, %(migration_status)s).')


class SameBackend(Conflict):
    error_code = 'migrator.same_backend'
    msg_fmt = 'Volume %(volume_id)s is already on backend %(backend)s.'


class InvalidMigrationStatus(Conflict):
    error_code = 'migrator.invalid_migration_status'
    msg_fmt = 'Migration %(migration_id)s is %(status)s; cannot %(action)s.'


class BackendUnavailable(Conflict):
    error_code = 'migrator.backend_unavailable'
    msg_fmt = 'Backend %(backend)s is not available: %(reason)s'


class InsufficientCapacity(Conflict):
    error_code = 'migrator.insufficient_capacity'
    msg_fmt = ('Backend %(backend)s cannot hold %(size)d bytes: '
               '%(reason)s')


class ServiceUnavailable(MigratorException):
    code = 503
    error_code = 'migrator.service_unavailable'
    title = 'Service unavailable'
    msg_fmt = 'The %(service)s service is unavailable: %(reason)s'


class VolumeBackendError(MigratorException):
    error_code = 'migrator.volume_backend_error'
    msg_fmt = 'Backend %(backend)s failed: %(reason)s'


class CopyFailed(MigratorException):
    error_code = 'migrator.copy_failed'
    msg_fmt = 'Copy failed: %(reason)s'


class CopyCancelled(MigratorException):
    error_code = 'migrator.copy_cancelled'
    msg_fmt = 'Copy %(copy_id)s was cancelled.'


class ComputeError(MigratorException):
    error_code = 'migrator.compute_error'
    msg_fmt = 'Compute host %(host)s failed: %(reason)s'


class MultiAttachRefused(Conflict):
    error_code = 'migrator.multiattach_refused'
    msg_fmt = ('Volume %(volume_id)s has %(count)d attachments; a '
               'multi-attached volume cannot be migrated.')


class NoDataPath(Conflict):
    error_code = 'migrator.no_data_path'
    msg_fmt = ('The volume worker of backend %(dest)s (host %(dest_host)s) '
               'cannot reach backend %(source)s (host %(source_host)s): '
               'there is no data path between these hosts.')


class MigrationGivenUp(Conflict):
    """The compute agent rolled the guest back onto its source by itself
    (its overlay outgrew the room it was given): the migration cannot be
    completed, only rolled back."""
    error_code = 'migrator.migration_given_up'
    msg_fmt = ('The compute agent gave the migration up and rolled the '
               'guest back onto its source: %(reason)s')


class InstanceNotFreezable(Conflict):
    error_code = 'migrator.instance_not_freezable'
    msg_fmt = 'Instance %(instance)s cannot be frozen: %(reason)s'


def describe(exc):
    """A one-line, user-presentable reason for an exception."""
    if isinstance(exc, MigratorException):
        return exc.message
    return '%s: %s' % (type(exc).__name__, exc)
