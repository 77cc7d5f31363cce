"""Creating and deleting volumes on their backends."""

from oslo_config import cfg
from oslo_log import log as logging

from migrator_api.common import context as mcontext
from migrator_api.common import exception
from migrator_api.common import states
from migrator_api.db import api as db_api
from migrator_volume import rpcapi as volume_rpcapi

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


def _rpc():
    return volume_rpcapi.VolumeAPI(timeout=CONF.conductor.rpc_call_timeout)


def create(volume_id):
    ctxt = mcontext.get_admin_context()
    volume = db_api.volume_get(volume_id, include_hidden=True)
    if volume.status != states.CREATING:
        return
    backend = volume.backend
    try:
        location = _rpc().create_volume(ctxt, backend.host, backend.name,
                                        volume.provider_id, volume.size)
    except Exception as exc:
        LOG.exception('Creating volume %s on %s failed', volume_id,
                      backend.name)
        db_api.volume_update(volume_id, {'status': states.ERROR,
                                         'error': exception.describe(exc)},
                             expected={'status': states.CREATING})
        return
    db_api.volume_update(volume_id, {'location': location,
                                     'size': volume_size(location,
                                                         volume.size),
                                     'status': states.AVAILABLE,
                                     'error': None},
                         expected={'status': states.CREATING})
    LOG.info('Volume %s created on backend %s', volume_id, backend.name)


def volume_size(location, requested):
    """The size a volume really has: a block backend gives it a whole
    device, which may be larger than requested (sizes round up)."""
    return max(requested, int((location.get('data') or {}).get('size')
                              or requested))


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
            _rpc().delete_volume(ctxt, backend.host, backend.name,
                                 volume.provider_id, volume.location)
    except Exception as exc:
        LOG.exception('Deleting volume %s on %s failed', volume_id,
                      backend.name)
        db_api.volume_update(volume_id, {'status': states.ERROR_DELETING,
                                         'error': exception.describe(exc)},
                             expected={'status': states.DELETING})
        return
    db_api.volume_destroy(volume_id, expected={'status': states.DELETING})
    LOG.info('Volume %s deleted from backend %s', volume_id, backend.name)
