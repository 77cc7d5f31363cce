"""/: version discovery, and the table of every route of the API."""

import pecan

from migrator_api.api.controllers import base
from migrator_api.api.controllers.v1 import root as v1_root
from migrator_api.api.controllers.v1 import utils
from migrator_api.api import validation


class RootController(base.Controller):
    children = ('v1',)
    v1 = v1_root.V1Controller()

    @pecan.expose(generic=True, template='json')
    def index(self, **kw):
        utils.method_not_allowed(RootController.index)

    @index.when(method='GET', template='json')
    def get(self, **kw):
        validation.query(pecan.request, validation.NO_QUERY)
        return {'versions': [v1_root.version_view()]}


def iter_routes():
    """(method, path template) of every route of the API."""
    return list(base.iter_routes(RootController()))
