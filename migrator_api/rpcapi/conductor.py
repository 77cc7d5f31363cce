"""Client side of the conductor RPC API.

The API casts migrations to the conductor; the agents report back to
it (they never touch the database).

Versions:
  1.0 - create_volume, delete_volume, attach_volume, detach_volume,
        start_migration, cancel_migration,
        report_state, copy_progress, copy_finished,
        compute_migration_finished
  1.1 - overlay_progress
  1.2 - copy_interrupted
"""

from migrator_api.common import rpc
from migrator_api.rpcapi import base


class ConductorAPI(base.RPCAPI):
    TOPIC = rpc.CONDUCTOR_TOPIC
    RPC_API_VERSION = '1.2'

    def _cast(self, ctxt, method, version='1.0', **kwargs):
        self.prepare(version=version).cast(ctxt, method, **kwargs)

    # Called by the API.
    def create_volume(self, ctxt, volume_id):
        self._cast(ctxt, 'create_volume', volume_id=volume_id)

    def delete_volume(self, ctxt, volume_id):
        self._cast(ctxt, 'delete_volume', volume_id=volume_id)

    def attach_volume(self, ctxt, attachment_id):
        self._cast(ctxt, 'attach_volume',
                   attachment_id=attachment_id)

    def detach_volume(self, ctxt, attachment_id):
        self._cast(ctxt, 'detach_volume',
                   attachment_id=attachment_id)

    def start_migration(self, ctxt, migration_id):
        self._cast(ctxt, 'start_migration',
                   migration_id=migration_id)

    def cancel_migration(self, ctxt, migration_id):
        self._cast(ctxt, 'cancel_migration',
                   migration_id=migration_id)

    # Called by the agents.
    def report_state(self, ctxt, host, binary, backends=None):
        """Heartbeat of an agent; a volume worker lists its backends.

        backends: list of dicts {name, backend_type, capabilities,
        total_capacity_bytes, free_capacity_bytes}.
        """
        self._cast(ctxt, 'report_state', host=host, binary=binary,
                   backends=backends)

    def copy_progress(self, ctxt, migration_id, bytes_done, bytes_total):
        self._cast(ctxt, 'copy_progress', migration_id=migration_id,
                   bytes_done=bytes_done, bytes_total=bytes_total)

    def copy_finished(self, ctxt, migration_id, bytes_done, bytes_total,
                      error=None):
        """The copy of a migration ended: error is None or a message."""
        self._cast(ctxt, 'copy_finished', migration_id=migration_id,
                   bytes_done=bytes_done, bytes_total=bytes_total,
                   error=error)

    def copy_interrupted(self, ctxt, migration_id, host, resume_from,
                         bytes_total):
        """The copy of a migration on ``host`` was interrupted (its
        worker restarted); every byte below ``resume_from`` is on the
        destination.  The conductor casts copy_volume again with that
        offset if the migration still wants the copy, else rolls it
        back.  Version 1.2: callers check ``can_send_version('1.2')``.
        """
        self._cast(ctxt, 'copy_interrupted', version='1.2',
                   migration_id=migration_id, host=host,
                   resume_from=resume_from, bytes_total=bytes_total)

    def compute_migration_finished(self, ctxt, migration_id, operation,
                                   error=None):
        """The asynchronous end of a compute operation.

        operation: 'complete' (the fold-in into the destination ended)
        or 'cancel' (the rollback into the source ended); error is None
        or a message.
        """
        self._cast(ctxt, 'compute_migration_finished',
                   migration_id=migration_id, operation=operation,
                   error=error)

    def overlay_progress(self, ctxt, migration_id, overlay_bytes,
                         error=None):
        """The size on disk of a frozen guest's overlay (compute agent).

        error: None while the guest is frozen; else why the agent gave
        the migration up (the overlay went past its cap): the guest is
        back on its source and the migration must end in error.
        Version 1.1: callers check ``can_send_version('1.1')``.
        """
        self._cast(ctxt, 'overlay_progress', version='1.1',
                   migration_id=migration_id, overlay_bytes=overlay_bytes,
                   error=error)
