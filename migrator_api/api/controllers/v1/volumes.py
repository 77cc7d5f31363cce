"""/v1/volumes: create, list, show and delete volumes.

Migration fields (migration_status, backend_host, location, hidden,
error) are shown only to those allowed
``migrator:volume:show_migration_fields`` (admins by default).  The
hidden destination volume of a running migration is listed only with
``include_hidden=true`` (``migrator:volume:include_hidden``).
"""

import pecan

from migrator_api.api.controllers import base
from migrator_api.api.controllers.v1 import utils
from migrator_api.api.schemas import volumes as schema
from migrator_api.api import validation
from migrator_api.common import exception
from migrator_api.conductor import api as conductor_api
from migrator_api.db import api as db_api
from migrator_api import policy

MIGRATION_FIELDS = 'migrator:volume:show_migration_fields'


def attachment_view(attachment):
    return {'id': attachment.id, 'instance_uuid': attachment.instance_uuid,
            'host': attachment.host, 'status': attachment.status,
            'device': attachment.device}


def volume_view(volume, ctxt):
    view = {
        'id': volume.id,
        'name': volume.name,
        'size': volume.size,
        'status': volume.status,
        'backend': volume.backend.name,
        'project_id': volume.project_id,
        'user_id': volume.user_id,
        'created_at': utils.isotime(volume.created_at),
        'updated_at': utils.isotime(volume.updated_at),
        'attachments': [attachment_view(a) for a in
                        db_api.attachment_get_all(volume_id=volume.id)],
        'links': [utils.self_link('v1', 'volumes', volume.id)],
    }
    if policy.check(ctxt, MIGRATION_FIELDS):
        view.update(migration_status=volume.migration_status,
                    backend_host=volume.backend.host,
                    location=volume.location, hidden=volume.hidden,
                    error=volume.error)
    return view


def _get_owned(ctxt, volume_id, include_hidden=False):
    """The volume, if ``ctxt`` may see it (else a 404, as if absent)."""
    volume = db_api.volume_get(volume_id, include_hidden=include_hidden)
    if not policy.check(ctxt, 'migrator:volume:show',
                        {'project_id': volume.project_id}):
        raise exception.VolumeNotFound(volume_id=volume_id)
    return volume


def _list_filters(ctxt, params):
    """DB filters from validated query parameters, checking policy."""
    filters = {k: params[k] for k in ('status', 'name') if k in params}
    if 'migration_status' in params:
        policy.authorize(ctxt, MIGRATION_FIELDS)
        value = params['migration_status']
        filters['migration_status'] = None if value == 'none' else value
    if validation.is_true(params, 'include_hidden'):
        policy.authorize(ctxt, 'migrator:volume:include_hidden')
    if policy.check(ctxt, 'migrator:volume:list_all_projects'):
        if 'project_id' in params:
            filters['project_id'] = params['project_id']
    elif 'project_id' in params:
        policy.authorize(ctxt, 'migrator:volume:list_all_projects')
    else:
        filters['project_id'] = ctxt.project_id
    if 'backend' in params:
        try:
            filters['backend_id'] = db_api.backend_get(params['backend']).id
        except exception.BackendNotFound:
            return None
    return filters


class VolumeController(base.Controller):

    def __init__(self, volume_id):
        self.volume_id = volume_id

    @pecan.expose(generic=True, template='json')
    def index(self, **kw):
        utils.method_not_allowed(VolumeController.index)

    @index.when(method='GET', template='json')
    def get(self, **kw):
        ctxt = utils.context()
        policy.authorize(ctxt, 'migrator:volume:show')
        params = validation.query(pecan.request, schema.show_query)
        hidden = validation.is_true(params, 'include_hidden')
        if hidden:
            policy.authorize(ctxt, 'migrator:volume:include_hidden')
        volume = _get_owned(ctxt, self.volume_id, include_hidden=hidden)
        return {'volume': volume_view(volume, ctxt)}

    @index.when(method='DELETE', template='json')
    def delete(self, **kw):
        ctxt = utils.context()
        policy.authorize(ctxt, 'migrator:volume:delete')
        validation.query(pecan.request, validation.NO_QUERY)
        volume = _get_owned(ctxt, self.volume_id)
        policy.authorize(ctxt, 'migrator:volume:delete',
                         {'project_id': volume.project_id})
        conductor_api.delete_volume(ctxt, self.volume_id)
        return utils.accepted()


class VolumesController(base.Controller):
    item_param = 'volume_id'

    @pecan.expose(generic=True, template='json')
    def index(self, **kw):
        utils.method_not_allowed(VolumesController.index)

    @index.when(method='GET', template='json')
    def get_all(self, **kw):
        ctxt = utils.context()
        policy.authorize(ctxt, 'migrator:volume:list')
        params = validation.query(pecan.request, schema.list_query,
                                  utils.conf().api.max_limit)
        filters = _list_filters(ctxt, params)
        limit = params.get('limit', utils.conf().api.max_limit)
        volumes = [] if filters is None else db_api.volume_get_all(
            filters, limit=limit, marker=params.get('marker'),
            include_hidden=validation.is_true(params, 'include_hidden'))
        return {'volumes': [volume_view(v, ctxt) for v in volumes],
                'links': utils.collection_links('v1/volumes', volumes,
                                                limit, params)}

    @index.when(method='POST', template='json')
    def post(self, **kw):
        ctxt = utils.context()
        policy.authorize(ctxt, 'migrator:volume:create')
        body = validation.body(pecan.request, schema.create)['volume']
        volume = conductor_api.create_volume(ctxt, body['size'],
                                             body['backend'],
                                             name=body.get('name'))
        pecan.response.status = 202
        return {'volume': volume_view(volume, ctxt)}

    def _item(self, volume_id):
        return VolumeController(volume_id)
