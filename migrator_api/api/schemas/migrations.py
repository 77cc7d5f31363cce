from migrator_api.api.schemas import common
from migrator_api.common import states

create = {
    'type': 'object',
    'properties': {
        'migration': {
            'type': 'object',
            'properties': {
                'volume_id': common.UUID,
                'backend': common.NAME,
                'force': {'type': 'boolean'},
            },
            'required': ['volume_id', 'backend'],
            'additionalProperties': False,
        },
    },
    'required': ['migration'],
    'additionalProperties': False,
}

# POST /v1/migrations/{id}/cancel takes no body or an empty object.
cancel = {'type': 'object', 'additionalProperties': False}

list_query = common.query(
    status={'type': 'string', 'enum': list(states.MIGRATION_STATUSES)},
    phase={'type': 'string', 'enum': list(states.PHASES)},
    volume_id=common.UUID,
    source_backend=common.NAME,
    dest_backend=common.NAME,
    limit=common.LIMIT,
    marker=common.MARKER,
)
