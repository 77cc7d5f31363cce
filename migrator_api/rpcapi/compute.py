"""Client side of the compute agent RPC API (the compute contract).

Every call goes to the agent of the instance's host (server = host).
All take attachment ids, never paths: the agent keeps the connection of
each attachment it made.

Versions:
  1.0 - get_instance, attach_volume, detach_volume,
        volume_migration_start, volume_migration_cancel,
        volume_migration_complete
  1.1 - volume_migration_start takes migration_id (the agent reports the
        size of the guest's overlay for it: ConductorAPI.overlay_progress)
"""

from migrator_api.common import rpc
from migrator_api.rpcapi import base


class ComputeAPI(base.RPCAPI):
    TOPIC = rpc.COMPUTE_TOPIC
    RPC_API_VERSION = '1.1'

    def get_instance(self, ctxt, host, instance_uuid):
        """{'uuid', 'name', 'power_state': 'running'|'shutoff'|...};
        raises InstanceNotFound."""
        return self.prepare(server=host, version='1.0').call(
            ctxt, 'get_instance', instance_uuid=instance_uuid)

    def attach_volume(self, ctxt, host, instance_uuid, attachment_id,
                      connection_info):
        """Attach; return {'target': 'sdb', 'bus': 'scsi'}."""
        return self.prepare(server=host, version='1.0').call(
            ctxt, 'attach_volume', instance_uuid=instance_uuid,
            attachment_id=attachment_id, connection_info=connection_info)

    def detach_volume(self, ctxt, host, instance_uuid, attachment_id):
        return self.prepare(server=host, version='1.0').call(
            ctxt, 'detach_volume', instance_uuid=instance_uuid,
            attachment_id=attachment_id)

    def volume_migration_start(self, ctxt, host, instance_uuid,
                               attachment_id, migration_id=None):
        """Synchronous: when it returns nothing writes to the source until
        cancel or complete.  Returns {'mode': 'live'|'offline'}.
        ``migration_id`` (1.1; left out for an agent of 1.0): whom the
        agent reports the overlay's size to."""
        kwargs = {'instance_uuid': instance_uuid,
                  'attachment_id': attachment_id}
        version = '1.0'
        if migration_id is not None and self.can_send_version('1.1'):
            kwargs['migration_id'] = migration_id
            version = '1.1'
        return self.prepare(server=host, version=version).call(
            ctxt, 'volume_migration_start', **kwargs)

    def volume_migration_cancel(self, ctxt, host, instance_uuid,
                                attachment_id, migration_id):
        """Asynchronous (cast): the source is writable again at once; the
        end of the rollback is reported with
        ConductorAPI.compute_migration_finished(migration_id, 'cancel',
        error)."""
        self.prepare(server=host, version='1.0').cast(
            ctxt, 'volume_migration_cancel', instance_uuid=instance_uuid,
            attachment_id=attachment_id, migration_id=migration_id)

    def volume_migration_complete(self, ctxt, host, instance_uuid,
                                  src_attachment_id, dst_attachment_id,
                                  dst_connection_info, migration_id):
        """Returns once the source is no longer referenced (the source
        can be released), with {'target': ...}; the fold-in goes on and
        its end is reported with
        ConductorAPI.compute_migration_finished(migration_id, 'complete',
        error)."""
        return self.prepare(server=host, version='1.0').call(
            ctxt, 'volume_migration_complete', instance_uuid=instance_uuid,
            src_attachment_id=src_attachment_id,
            dst_attachment_id=dst_attachment_id,
            dst_connection_info=dst_connection_info,
            migration_id=migration_id)
