from migrator_api.api.schemas import common
from migrator_api.common import states

# Sizes are bytes, whole 512-byte sectors, and fit a signed 64-bit column.
SIZE = {'type': 'integer', 'exclusiveMinimum': 0, 'multipleOf': 512,
        'maximum': 2 ** 63 - 512}

create = {
    'type': 'object',
    'properties': {
        'volume': {
            'type': 'object',
            'properties': {
                'size': SIZE,
                'backend': common.NAME,
                'name': {'type': ['string', 'null'], 'maxLength': 255},
            },
            'required': ['size', 'backend'],
            'additionalProperties': False,
        },
    },
    'required': ['volume'],
    'additionalProperties': False,
}

list_query = common.query(
    status={'type': 'string', 'enum': list(states.VOLUME_STATUSES)},
    migration_status={'type': 'string',
                      'enum': list(states.MIGRATION_STATUSES) + ['none']},
    backend=common.NAME,
    name=common.NAME,
    project_id=common.NAME,
    include_hidden=common.BOOLEAN_QUERY,
    limit=common.LIMIT,
    marker=common.MARKER,
)

show_query = common.query(include_hidden=common.BOOLEAN_QUERY)
