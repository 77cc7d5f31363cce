"""The alembic migrations take an empty database to the models' schema."""

import os

from oslo_db.sqlalchemy import test_migrations
import sqlalchemy as sa

from migrator_api.db import api as db_api
from migrator_api.db import migration
from migrator_api.db import models
from tests import base


class TestMigrationsWalk(base.TestCase):

    def setUp(self):
        super().setUp()
        self.flags(connection='sqlite:///%s' % os.path.join(
            self.state_path, 'walk.sqlite'), group='database')
        db_api.configure(self.conf)
        self.addCleanup(db_api.dispose)

    def test_walk_to_head_and_again(self):
        self.assertIsNone(migration.current_revision())
        migration.upgrade()
        self.assertEqual('0001', migration.current_revision())
        tables = set(sa.inspect(db_api.get_engine()).get_table_names())
        self.assertTrue({'services', 'backends', 'volumes', 'attachments',
                         'migrations', 'alembic_version'} <= tables)
        # A second sync is a no-op.
        migration.upgrade()
        self.assertEqual('0001', migration.current_revision())


class TestModelsInSync(test_migrations.ModelsMigrationsSync,
                       base.TestCase):
    """Nothing in the models is missing from the migrations."""

    def setUp(self):
        super().setUp()
        self.flags(connection='sqlite:///%s' % os.path.join(
            self.state_path, 'sync.sqlite'), group='database')
        db_api.configure(self.conf)
        self.addCleanup(db_api.dispose)

    def get_engine(self):
        return db_api.get_engine()

    def get_metadata(self):
        return models.Base.metadata

    def db_sync(self, engine):
        migration.upgrade(engine=engine)
