from migrator_api.api.schemas import common
from migrator_api.common import states

list_query = common.query(
    host=common.NAME,
    binary={'type': 'string', 'enum': [states.BINARY_VOLUME,
                                       states.BINARY_COMPUTE,
                                       states.BINARY_CONDUCTOR]},
)
