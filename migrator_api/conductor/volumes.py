"""Creating and deleting volumes on their backends, and reaching them
from other hosts.

Every create and delete the conductor asks of a volume worker (a user's
volume, a migration's destination or old source) goes through
``create_on_backend`` / ``delete_from_backend``, which record the
backend's capacity as the worker reads it right after, before the
caller records the operation as ended: admission (conductor.api) sees
the change at once, not at the worker's next heartbeat.

``reach`` gives the location by which a host reaches a volume: its own
location on the volume's host, else an NBD export of it to that host
alone (the volume worker's export_volume), which ``close_export``
closes.  An export is named after what it grants (the volume, the
host, read-only or writable), so the conductor closes the one it made
from the rows it holds, and asking again for one returns the same
location: every step using them can be repeated.  Deleting a volume
closes all its exports (the worker does it first).
"""

import threading

from oslo_config import cfg
from oslo_log import log as logging

from migrator_api.common import context as mcontext
from migrator_api.common import exception
from migrator_api.common import states
from migrator_api.conductor import machine
from migrator_api.db import api as db_api
from migrator_api.rpcapi import payloads
from migrator_api.rpcapi import volume as volume_rpcapi

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

_capacity_locks = {}
_capacity_guard = threading.Lock()


def volume_rpc():
    return volume_rpcapi.VolumeAPI(timeout=CONF.conductor.rpc_call_timeout)


def refresh_capacity(ctxt, backend):
    """Record the capacity of ``backend`` as its worker reads it now.

    Best effort: when the worker cannot tell (down, or older than RPC
    1.1, or ``[upgrade_levels] volume`` pins it to 1.0), the next
    heartbeat records it.  Reads and writes of one backend take turns,
    so the last written is the last read.
    """
    with _capacity_guard:
        lock = _capacity_locks.setdefault(backend.name, threading.Lock())
    client = volume_rpc()
    if not client.can_send_version('1.1'):
        LOG.debug('Backend %s: its capacity is recorded at its next '
                  'heartbeat (volume RPC pinned to %s)', backend.name,
                  client.version_cap)
        return False
    with lock:
        try:
            stats = client.get_backend_stats(ctxt, backend.host,
                                             backend.name)
        except Exception as exc:
            LOG.warning('Cannot read the capacity of backend %s now (its '
                        'next heartbeat will tell): %s', backend.name,
                        exception.describe(exc))
            return False
        db_api.backend_sync(backend.host, [stats])
    LOG.debug('Backend %s: %s of %s bytes free', backend.name,
              stats.get('free_capacity_bytes'),
              stats.get('total_capacity_bytes'))
    return True


def reach(ctxt, backend, volume, host, writable=False):
    """The location by which ``host`` reaches ``volume`` (a row of
    ``backend``): its own on its host, else an export to ``host``."""
    if backend.host == host:
        return volume.location
    rpc = volume_rpc()
    if not machine.serves_nbd(backend) or not rpc.can_send_version('1.2'):
        raise exception.NoDataPath(
            'Host %s cannot reach backend %s (host %s): its volume worker '
            'exports no volumes over NBD ([nbd] enabled).'
            % (host, backend.name, backend.host))
    location = rpc.export_volume(ctxt, backend.host, backend.name,
                                 volume.provider_id, volume.location, [host],
                                 writable=writable)
    LOG.info('Volume %s of backend %s (host %s) exported to host %s as %s '
             '(%s)', volume.id, backend.name, backend.host, host,
             payloads.nbd_uri(location),
             'writable' if writable else 'read-only')
    return location


def close_export(ctxt, backend, volume, host, writable=False):
    """Close the export ``reach`` made of ``volume`` for ``host`` (none:
    fine)."""
    if backend.host == host or not machine.serves_nbd(backend):
        return
    name = payloads.export_name(volume.provider_id, [host], writable)
    if volume_rpc().unexport_volume(ctxt, backend.host, backend.name,
                                    volume.provider_id, export=name):
        LOG.info('Export %s of volume %s to host %s closed', name,
                 volume.id, host)


def close_copy_source(ctxt, mig):
    """The copy of ``mig`` is over (or stopped): close the export of the
    source it read from another host, if any.  Before the volume lives
    on the destination (finalizing) the user's row is the source."""
    if mig.copy_host is not None:
        close_export(ctxt, mig.source_backend,
                     db_api.volume_get(mig.volume_id), mig.copy_host)


def create_on_backend(ctxt, backend, volume_id, size):
    """Create a raw volume on ``backend``; return its location."""
    location = volume_rpc().create_volume(ctxt, backend.host, backend.name,
                                          volume_id, size)
    refresh_capacity(ctxt, backend)
    return location


def delete_from_backend(ctxt, backend, volume):
    """Delete a volume's data from ``backend`` (gone already: fine)."""
    volume_rpc().delete_volume(ctxt, backend.host, backend.name,
                               volume.provider_id, volume.location)
    refresh_capacity(ctxt, backend)


def destroy(ctxt, volume):
    """Delete a (hidden) volume's data and its row; idempotent."""
    if volume.location is not None:
        delete_from_backend(ctxt, db_api.backend_get(volume.backend_id),
                            volume)
    db_api.volume_destroy(volume.id)


def create(volume_id):
    ctxt = mcontext.get_admin_context()
    volume = db_api.volume_get(volume_id, include_hidden=True)
    if volume.status != states.CREATING:
        return
    backend = volume.backend
    try:
        location = create_on_backend(ctxt, backend, volume.provider_id,
                                     volume.size)
    except Exception as exc:
        return _failed(volume, 'Creating', states.CREATING, states.ERROR,
                       exc)
    db_api.volume_update(volume_id, {'location': location,
                                     'size': volume_size(location,
                                                         volume.size),
                                     'status': states.AVAILABLE,
                                     'error': None},
                         expected={'status': states.CREATING})
    LOG.info('Volume %s created on backend %s', volume_id, backend.name)


def _failed(volume, doing, status, error_status, exc):
    LOG.exception('%s volume %s on %s failed', doing, volume.id,
                  volume.backend.name)
    db_api.volume_update(volume.id, {'status': error_status,
                                     'error': exception.describe(exc)},
                         expected={'status': status})


def volume_size(location, requested):
    """The size a volume really has: a block backend gives it a whole
    device, which may be larger than requested (sizes round up)."""
    return max(requested, payloads.location_size(location, requested))


def delete(volume_id):
    ctxt = mcontext.get_admin_context()
    try:
        volume = db_api.volume_get(volume_id, include_hidden=True)
    except exception.VolumeNotFound:
        return
    if volume.status != states.DELETING:
        return
    backend = volume.backend
    try:
        if volume.location is not None:
            delete_from_backend(ctxt, backend, volume)
    except Exception as exc:
        return _failed(volume, 'Deleting', states.DELETING,
                       states.ERROR_DELETING, exc)
    db_api.volume_destroy(volume_id, expected={'status': states.DELETING})
    LOG.info('Volume %s deleted from backend %s', volume_id, backend.name)
