from migrator_api.api.schemas import common
from migrator_api.common import states

list_query = common.query(
    host=common.NAME,
    backend_type={'type': 'string', 'enum': list(states.BACKEND_TYPES)},
)
