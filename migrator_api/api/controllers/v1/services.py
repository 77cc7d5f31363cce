"""/v1/services: the volume workers and compute agents, up or down."""

import pecan

from migrator_api.api.controllers import base
from migrator_api.api.controllers.v1 import utils
from migrator_api.api.schemas import services as schema
from migrator_api.api import validation
from migrator_api.conductor import api as conductor_api
from migrator_api.db import api as db_api
from migrator_api import policy


def service_view(service):
    return {
        'id': service.id,
        'host': service.host,
        'binary': service.binary,
        'state': 'up' if conductor_api.service_is_up(service) else 'down',
        'disabled': service.disabled,
        'last_seen_at': utils.isotime(service.last_seen_at),
        'created_at': utils.isotime(service.created_at),
        'updated_at': utils.isotime(service.updated_at),
    }


class ServicesController(base.Controller):

    @pecan.expose(generic=True, template='json')
    def index(self, **kw):
        utils.method_not_allowed(ServicesController.index)

    @index.when(method='GET', template='json')
    def get_all(self, **kw):
        policy.authorize(utils.context(), 'migrator:service:list')
        params = validation.query(pecan.request, schema.list_query)
        services = db_api.service_get_all(binary=params.get('binary'),
                                          host=params.get('host'))
        return {'services': [service_view(s) for s in services]}
