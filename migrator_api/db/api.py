"""The database API the API side calls: one function per transaction.

Its functions live in one module per kind of record; this module is
where callers find them all::

    session     the engine, transactions, compare-and-swap helpers
    services    services (agents' heartbeats) and their backends
    volumes     volumes and attachments
    migrations  migrations: records and the compare-and-swap writes the
                state machine (conductor.machine) asks for

State changes that race are compare-and-swap updates: ``expected`` names
the values a row must still hold, and a row that no longer holds them
is left alone and reported with ``None``/``False``.  No rule of the
migration state machine is decided in the db layer.
"""

from migrator_api.db.migrations import migration_and_volume_update  # noqa
from migrator_api.db.migrations import migration_claims_update  # noqa
from migrator_api.db.migrations import migration_create  # noqa
from migrator_api.db.migrations import migration_create_destination  # noqa
from migrator_api.db.migrations import MIGRATION_FILTERS  # noqa
from migrator_api.db.migrations import migration_get  # noqa
from migrator_api.db.migrations import migration_get_all  # noqa
from migrator_api.db.migrations import migration_get_queued  # noqa
from migrator_api.db.migrations import migration_get_running  # noqa
from migrator_api.db.migrations import migration_switch_volume  # noqa
from migrator_api.db.migrations import migration_update  # noqa
from migrator_api.db.services import backend_get  # noqa
from migrator_api.db.services import backend_get_all  # noqa
from migrator_api.db.services import backend_sync  # noqa
from migrator_api.db.services import service_get  # noqa
from migrator_api.db.services import service_get_all  # noqa
from migrator_api.db.services import service_report  # noqa
from migrator_api.db.session import configure  # noqa
from migrator_api.db.session import dispose  # noqa
from migrator_api.db.session import get_engine  # noqa
from migrator_api.db.session import writer  # noqa
from migrator_api.db.volumes import attachment_create  # noqa
from migrator_api.db.volumes import attachment_finish  # noqa
from migrator_api.db.volumes import attachment_get  # noqa
from migrator_api.db.volumes import attachment_get_all  # noqa
from migrator_api.db.volumes import attachment_start_detach  # noqa
from migrator_api.db.volumes import attachment_update  # noqa
from migrator_api.db.volumes import volume_create  # noqa
from migrator_api.db.volumes import volume_destroy  # noqa
from migrator_api.db.volumes import volume_get  # noqa
from migrator_api.db.volumes import volume_get_all  # noqa
from migrator_api.db.volumes import volume_get_in_status  # noqa
from migrator_api.db.volumes import VOLUME_FILTERS  # noqa
from migrator_api.db.volumes import volume_update  # noqa
