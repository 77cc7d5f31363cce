"""/v1/migrations: migrate a volume to another backend, watch, cancel.

Admin-only by default policy.  A migration is cancelled with
``POST /v1/migrations/{id}/cancel``: the record stays (status
``cancelling`` then ``cancelled``), so DELETE would be misleading.
"""

import math

import pecan

from migrator_api.api.controllers import base
from migrator_api.api.controllers.v1 import utils
from migrator_api.api.schemas import migrations as schema
from migrator_api.api import validation
from migrator_api.common import exception
from migrator_api.common import states
from migrator_api.conductor import api as conductor_api
from migrator_api.db import api as db_api
from migrator_api import policy
from migrator_api.rpcapi import payloads

ACCEPTED_MESSAGE = ('Your migration request has been received. Please check '
                    'migration status and the server log to see more '
                    'information.')


def percentage(migration):
    if migration.status == states.M_SUCCESS:
        return 100.0
    return payloads.percentage(migration.bytes_done, migration.bytes_total)


def eta_seconds(migration):
    if (migration.status not in states.MIGRATION_RUNNING
            or not migration.rate_bps or migration.rate_bps <= 0):
        return None
    remaining = max(0, migration.bytes_total - migration.bytes_done)
    return int(math.ceil(remaining / migration.rate_bps))


def migration_view(migration):
    return {
        'id': migration.id,
        'volume_id': migration.volume_id,
        'dest_volume_id': migration.dest_volume_id,
        'attachment_id': migration.attachment_id,
        'dest_attachment_id': migration.dest_attachment_id,
        'instance_uuid': migration.instance_uuid,
        'compute_host': migration.compute_host,
        'source_backend': migration.source_backend.name,
        'dest_backend': migration.dest_backend.name,
        'copy_host': migration.copy_host,
        'status': migration.status,
        'phase': migration.phase,
        'force': migration.force,
        'cancel_requested': migration.cancel_requested,
        'percentage': percentage(migration),
        'bytes_done': migration.bytes_done,
        'bytes_total': migration.bytes_total,
        'rate_bps': migration.rate_bps,
        'eta_seconds': eta_seconds(migration),
        'overlay_bytes': migration.overlay_bytes,
        'created_at': utils.isotime(migration.created_at),
        'updated_at': utils.isotime(migration.updated_at),
        'started_at': utils.isotime(migration.started_at),
        'finished_at': utils.isotime(migration.finished_at),
        'error': migration.error,
        'links': [utils.self_link('v1', 'migrations', migration.id),
                  {'rel': 'volume',
                   'href': utils.url('v1', 'volumes', migration.volume_id)}],
    }


def _list_filters(params):
    filters = {k: params[k] for k in ('status', 'phase', 'volume_id')
               if k in params}
    for name in ('source_backend', 'dest_backend'):
        if name in params:
            try:
                filters[name + '_id'] = db_api.backend_get(params[name]).id
            except exception.BackendNotFound:
                return None
    return filters


class MigrationController(base.Controller):
    children = ('cancel',)

    def __init__(self, migration_id):
        self.migration_id = migration_id

    @pecan.expose(generic=True, template='json')
    def index(self, **kw):
        utils.method_not_allowed(MigrationController.index)

    @index.when(method='GET', template='json')
    def get(self, **kw):
        policy.authorize(utils.context(), 'migrator:migration:show')
        validation.query(pecan.request, validation.NO_QUERY)
        migration = db_api.migration_get(self.migration_id)
        return {'migration': migration_view(migration)}

    @pecan.expose(generic=True, template='json')
    def cancel(self, **kw):
        utils.method_not_allowed(MigrationController.cancel)

    @cancel.when(method='POST', template='json')
    def post_cancel(self, **kw):
        ctxt = utils.context()
        policy.authorize(ctxt, 'migrator:migration:cancel')
        validation.body(pecan.request, schema.cancel, optional=True)
        migration = conductor_api.cancel_migration(ctxt, self.migration_id)
        pecan.response.status = 202
        return {'migration': migration_view(migration)}


class MigrationsController(base.Controller):
    item_param = 'migration_id'

    @pecan.expose(generic=True, template='json')
    def index(self, **kw):
        utils.method_not_allowed(MigrationsController.index)

    @index.when(method='GET', template='json')
    def get_all(self, **kw):
        policy.authorize(utils.context(), 'migrator:migration:list')
        params = validation.query(pecan.request, schema.list_query,
                                  utils.conf().api.max_limit)
        filters = _list_filters(params)
        limit = params.get('limit', utils.conf().api.max_limit)
        migrations = [] if filters is None else db_api.migration_get_all(
            filters, limit=limit, marker=params.get('marker'))
        return {'migrations': [migration_view(m) for m in migrations],
                'links': utils.collection_links('v1/migrations', migrations,
                                                limit, params)}

    @index.when(method='POST', template='json')
    def post(self, **kw):
        ctxt = utils.context()
        policy.authorize(ctxt, 'migrator:migration:create')
        body = validation.body(pecan.request, schema.create)['migration']
        migration = conductor_api.create_migration(
            ctxt, body['volume_id'], body['backend'],
            force=body.get('force', False))
        pecan.response.status = 202
        return {'migration': migration_view(migration),
                'message': ACCEPTED_MESSAGE}

    def _item(self, migration_id):
        return MigrationController(migration_id)
