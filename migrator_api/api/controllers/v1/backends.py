"""/v1/backends: the storage backends the volume workers serve."""

import pecan

from migrator_api.api.controllers import base
from migrator_api.api.controllers.v1 import utils
from migrator_api.api.schemas import backends as schema
from migrator_api.api import validation
from migrator_api.conductor import api as conductor_api
from migrator_api.db import api as db_api
from migrator_api import policy


def backend_view(backend):
    capabilities = dict(backend.capabilities or {})
    capabilities.setdefault('migration_progress_report', False)
    return {
        'id': backend.id,
        'name': backend.name,
        'host': backend.host,
        'backend_type': backend.backend_type,
        'capabilities': capabilities,
        'total_capacity_bytes': backend.total_capacity_bytes,
        'free_capacity_bytes': backend.free_capacity_bytes,
        'state': 'up' if conductor_api.backend_is_up(backend) else 'down',
        'updated_at': utils.isotime(backend.updated_at),
        'links': [utils.self_link('v1', 'backends', backend.id)],
    }


class BackendController(base.Controller):

    def __init__(self, ident):
        self.ident = ident

    @pecan.expose(generic=True, template='json')
    def index(self, **kw):
        utils.method_not_allowed(BackendController.index)

    @index.when(method='GET', template='json')
    def get(self, **kw):
        policy.authorize(utils.context(), 'migrator:backend:show')
        validation.query(pecan.request, validation.NO_QUERY)
        return {'backend': backend_view(db_api.backend_get(self.ident))}


class BackendsController(base.Controller):
    item_param = 'backend'

    @pecan.expose(generic=True, template='json')
    def index(self, **kw):
        utils.method_not_allowed(BackendsController.index)

    @index.when(method='GET', template='json')
    def get_all(self, **kw):
        policy.authorize(utils.context(), 'migrator:backend:list')
        filters = validation.query(pecan.request, schema.list_query)
        return {'backends': [backend_view(b)
                             for b in db_api.backend_get_all(filters)]}

    def _item(self, ident):
        return BackendController(ident)
