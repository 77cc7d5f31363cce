from migrator_api.api.schemas import common

list_query = common.query(
    host=common.NAME,
    backend_type=common.NAME,
)
