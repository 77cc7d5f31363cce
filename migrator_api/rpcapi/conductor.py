"""Client side of the conductor RPC API.

The API casts migrations to the conductor; the agents report back to
it (they never touch the database).

Versions:
  1.0 - create_volume, delete_volume, attach_volume, detach_volume,
        start_migration, cancel_migration,
        report_state, copy_progress, copy_finished,
        compute_migration_finished
"""

from migrator_api.common import rpc
from migrator_api.rpcapi import base


class ConductorAPI(base.RPCAPI):
    TOPIC = rpc.CONDUCTOR_TOPIC
    RPC_API_VERSION = '1.0'

    # Called by the API.
    def create_volume(self, ctxt, volume_id):
        self.prepare().cast(ctxt, 'create_volume', volume_id=volume_id)

    def delete_volume(self, ctxt, volume_id):
        self.prepare().cast(ctxt, 'delete_volume', volume_id=volume_id)

    def attach_volume(self, ctxt, attachment_id):
        self.prepare().cast(ctxt, 'attach_volume',
                            attachment_id=attachment_id)

    def detach_volume(self, ctxt, attachment_id):
        self.prepare().cast(ctxt, 'detach_volume',
                            attachment_id=attachment_id)

    def start_migration(self, ctxt, migration_id):
        self.prepare().cast(ctxt, 'start_migration',
                            migration_id=migration_id)

    def cancel_migration(self, ctxt, migration_id):
        self.prepare().cast(ctxt, 'cancel_migration',
                            migration_id=migration_id)

    # Called by the agents.
    def report_state(self, ctxt, host, binary, backends=None):
        """Heartbeat of an agent; a volume worker lists its backends.

        backends: list of dicts {name, backend_type, capabilities,
        total_capacity_bytes, free_capacity_bytes}.
        """
        self.prepare().cast(ctxt, 'report_state', host=host, binary=binary,
                            backends=backends)

    def copy_progress(self, ctxt, migration_id, bytes_done, bytes_total):
        self.prepare().cast(ctxt, 'copy_progress', migration_id=migration_id,
                            bytes_done=bytes_done, bytes_total=bytes_total)

    def copy_finished(self, ctxt, migration_id, bytes_done, bytes_total,
                      error=None):
        """The copy of a migration ended: error is None or a message."""
        self.prepare().cast(ctxt, 'copy_finished', migration_id=migration_id,
                            bytes_done=bytes_done, bytes_total=bytes_total,
                            error=error)

    def compute_migration_finished(self, ctxt, migration_id, operation,
                                   error=None):
        """The asynchronous end of a compute operation.

        operation: 'complete' (the fold-in into the destination ended)
        or 'cancel' (the rollback into the source ended); error is None
        or a message.
        """
        self.prepare().cast(ctxt, 'compute_migration_finished',
                            migration_id=migration_id, operation=operation,
                            error=error)
