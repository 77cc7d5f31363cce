"""Schema migrations (alembic), run by ``migrator-manage db sync``."""

import os

from alembic import command as alembic_command
from alembic import config as alembic_config
from alembic import migration as alembic_migration

from migrator_api.db import api as db_api

_SCRIPT_LOCATION = os.path.join(os.path.dirname(__file__), 'alembic')


def _config(engine=None):
    cfg = alembic_config.Config()
    cfg.set_main_option('script_location', _SCRIPT_LOCATION)
    cfg.attributes['engine'] = engine or db_api.get_engine()
    return cfg


def upgrade(revision='head', engine=None):
    alembic_command.upgrade(_config(engine), revision)


def current_revision(engine=None):
    engine = engine or db_api.get_engine()
    with engine.connect() as conn:
        return alembic_migration.MigrationContext.configure(
            conn).get_current_revision()
