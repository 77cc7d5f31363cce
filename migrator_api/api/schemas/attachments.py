from migrator_api.api.schemas import common

create = {
    'type': 'object',
    'properties': {
        'attachment': {
            'type': 'object',
            'properties': {
                'volume_id': common.UUID,
                'instance_uuid': common.UUID,
                'host': common.NAME,
            },
            'required': ['volume_id', 'instance_uuid', 'host'],
            'additionalProperties': False,
        },
    },
    'required': ['attachment'],
    'additionalProperties': False,
}

list_query = common.query(
    volume_id=common.UUID,
    instance_uuid=common.UUID,
)
