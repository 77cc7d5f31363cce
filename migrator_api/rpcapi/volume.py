"""Client side of the volume worker RPC API.

Every call goes to the worker serving the backend (server = its host).
A location is a connection description in Cinder's connection_info
shape, never a bare path::

    {"driver_volume_type": "file", "data": {"path": "/srv/a/volume-ID"}}
    {"driver_volume_type": "block", "data": {"device_path": "/dev/loop3"}}
    {"driver_volume_type": "nbd", "data": {"host", "port", "export",
                                           "size", "tls"}}

The last is a volume of another host, exported over NBD by its own
worker (export_volume): what a copy reads from another host, and what
a compute agent of another host is given.

Versions:
  1.0 - create_volume, delete_volume, copy_volume, cancel_copy,
        get_copy_status
  1.1 - get_backend_stats
  1.2 - export_volume, unexport_volume; copy_volume accepts an nbd
        src_location (another host's volume, read over NBD);
        delete_volume closes the volume's exports first
  1.3 - copy_volume accepts resume_from (the copy of a previous run of
        the worker resumes from that watermark)
"""

from migrator_api.common import rpc
from migrator_api.rpcapi import base
from migrator_api.rpcapi import payloads


class VolumeAPI(base.RPCAPI):
    TOPIC = rpc.VOLUME_TOPIC
    RPC_API_VERSION = '1.3'

    def create_volume(self, ctxt, host, backend, volume_id, size):
        """Create a raw volume of size bytes; return its location."""
        return self.prepare(server=host, version='1.0').call(
            ctxt, 'create_volume', backend=backend, volume_id=volume_id,
            size=size)

    def delete_volume(self, ctxt, host, backend, volume_id, location):
        """Delete a volume; deleting one already gone succeeds."""
        return self.prepare(server=host, version='1.0').call(
            ctxt, 'delete_volume', backend=backend, volume_id=volume_id,
            location=location)

    def copy_volume(self, ctxt, host, migration_id, volume_id, src_location,
                    dst_backend, dst_location, size, resume_from=0):
        """Start copying src onto dst (cast).

        The worker reports progress with ConductorAPI.copy_progress every
        migration_progress_report_interval seconds and the end with
        ConductorAPI.copy_finished.  An nbd src_location (1.2) is read
        over NBD.  ``resume_from`` (1.3; only to a worker that reported
        it with ConductorAPI.copy_interrupted): the copy resumes from
        that watermark.
        """
        version = '1.2' if payloads.is_nbd(src_location) else '1.0'
        kwargs = {}
        if resume_from:
            version = '1.3'
            kwargs['resume_from'] = resume_from
        self.prepare(server=host, version=version).cast(
            ctxt, 'copy_volume', migration_id=migration_id,
            volume_id=volume_id, src_location=src_location,
            dst_backend=dst_backend, dst_location=dst_location, size=size,
            **kwargs)

    def cancel_copy(self, ctxt, host, migration_id):
        """Stop the copy of a migration; True if one was running."""
        return self.prepare(server=host, version='1.0').call(
            ctxt, 'cancel_copy', migration_id=migration_id)

    def get_backend_stats(self, ctxt, host, backend):
        """The backend's stats as its heartbeat reports them (see
        ConductorAPI.report_state), read now."""
        return self.prepare(server=host, version='1.1').call(
            ctxt, 'get_backend_stats', backend=backend)

    def get_copy_status(self, ctxt, host, migration_id):
        """None if the worker knows no such copy, else a dict.

        {"state": "running"|"done"|"error"|"cancelled",
         "bytes_done": int, "bytes_total": int, "error": str|None}
        """
        return self.prepare(server=host, version='1.0').call(
            ctxt, 'get_copy_status', migration_id=migration_id)

    def export_volume(self, ctxt, host, backend, volume_id, location,
                      clients, writable=False):
        """(1.2) Export a volume over NBD to the hosts ``clients`` (host
        names: only their x509 identities may connect), read-only unless
        ``writable``; return its nbd location.  Idempotent: the same
        export again returns the same location."""
        return self.prepare(server=host, version='1.2').call(
            ctxt, 'export_volume', backend=backend, volume_id=volume_id,
            location=location, clients=list(clients), writable=writable)

    def unexport_volume(self, ctxt, host, backend, volume_id, export=None):
        """(1.2) Close the exports of a volume, or only the one named
        ``export``; return the names closed.  Idempotent."""
        return self.prepare(server=host, version='1.2').call(
            ctxt, 'unexport_volume', backend=backend, volume_id=volume_id,
            export=export)
