"""/v1: links to the resources of version 1."""

import pecan

from migrator_api.api.controllers import base
from migrator_api.api.controllers.v1 import attachments
from migrator_api.api.controllers.v1 import backends
from migrator_api.api.controllers.v1 import migrations
from migrator_api.api.controllers.v1 import services
from migrator_api.api.controllers.v1 import utils
from migrator_api.api.controllers.v1 import volumes
from migrator_api.api import validation

RESOURCES = ('backends', 'volumes', 'attachments', 'migrations', 'services')


def version_view():
    return {'id': 'v1', 'status': 'CURRENT', 'min_version': '',
            'version': '', 'links': [utils.self_link('v1', '')]}


class V1Controller(base.Controller):
    children = RESOURCES
    backends = backends.BackendsController()
    volumes = volumes.VolumesController()
    attachments = attachments.AttachmentsController()
    migrations = migrations.MigrationsController()
    services = services.ServicesController()

    @pecan.expose(generic=True, template='json')
    def index(self, **kw):
        utils.method_not_allowed(V1Controller.index)

    @index.when(method='GET', template='json')
    def get(self, **kw):
        validation.query(pecan.request, validation.NO_QUERY)
        view = version_view()
        view['links'] += [{'rel': name, 'href': utils.url('v1', name)}
                          for name in RESOURCES]
        return view
