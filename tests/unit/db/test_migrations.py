"""The alembic migrations take an empty database to the models' schema,
on SQLite (the embedded default), MariaDB and PostgreSQL (deployed;
each test has a database of its own on the server that
migrator_testing.services installs and starts when missing)."""

import os
import uuid

from alembic import script as alembic_script
from oslo_db.sqlalchemy import test_migrations
import sqlalchemy as sa

from migrator_api.db import api as db_api
from migrator_api.db import migration
from migrator_api.db import models
from migrator_testing import services
from tests import base

TABLES = {'services', 'backends', 'volumes', 'attachments', 'migrations',
          'alembic_version'}


def _revisions():
    """Every revision, oldest first."""
    scripts = alembic_script.ScriptDirectory.from_config(migration._config(
        engine=object()))
    return [r.revision for r in reversed(list(scripts.walk_revisions()))]


class _Database(object):
    """A fresh database of ``DATABASE`` for the test, db_api on it."""

    DATABASE = 'sqlite'

    def setUp(self):
        super().setUp()
        if self.DATABASE == 'sqlite':
            url = 'sqlite:///%s' % os.path.join(self.state_path, 'walk.db')
        else:
            make = getattr(services, self.DATABASE)
            url = make(database='mig_walk_%s' % uuid.uuid4().hex[:12])
            self.addCleanup(services.drop_database, url)
        self.flags(connection=url, group='database')
        db_api.configure(self.conf)
        self.addCleanup(db_api.dispose)


class _Walk(_Database):

    def test_walk_each_revision_then_again(self):
        self.assertIsNone(migration.current_revision())
        revisions = _revisions()
        self.assertEqual('0001', revisions[0])
        for revision in revisions:
            migration.upgrade(revision)
            self.assertEqual(revision, migration.current_revision())
        tables = set(sa.inspect(db_api.get_engine()).get_table_names())
        self.assertTrue(TABLES <= tables, tables)
        columns = {c['name'] for c in sa.inspect(
            db_api.get_engine()).get_columns('migrations')}
        self.assertTrue({'conductor_host', 'claimed_at', 'overlay_bytes'}
                        <= columns)
        # A second sync is a no-op.
        migration.upgrade()
        self.assertEqual(revisions[-1], migration.current_revision())

    def test_claims_survive_the_round_trip(self):
        """claimed_at compares equal to the value read back (MariaDB
        keeps whole seconds): what a compare-and-swap on it needs."""
        migration.upgrade()
        engine = db_api.get_engine()
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO backends (id, name, host, backend_type, "
                "capabilities, created_at) VALUES ('b', 'b', 'h', 'file', "
                "'{}', CURRENT_TIMESTAMP)"))
            conn.execute(sa.text(
                "INSERT INTO migrations (id, volume_id, source_backend_id, "
                "dest_backend_id, status, phase, %s, previous_volume_status, "
                "cancel_requested, bytes_done, bytes_total, frozen, "
                "created_at) VALUES ('m', 'v', 'b', 'b', 'starting', "
                "'queued', false, 'available', false, 0, 0, false, "
                "CURRENT_TIMESTAMP)" % engine.dialect.identifier_preparer
                .quote('force')))
        self.assertEqual(['m'], db_api.migration_claims_update(
            ['m'], {'conductor_host': 'c1',
                    'claimed_at': db_api.migration_get('m').created_at},
            expected={'conductor_host': None, 'claimed_at': None}))
        mig = db_api.migration_get('m')
        self.assertEqual([], db_api.migration_claims_update(
            ['m'], {'conductor_host': 'c2'},
            expected={'conductor_host': None}))
        self.assertEqual(['m'], db_api.migration_claims_update(
            ['m'], {'conductor_host': 'c2'},
            expected={'conductor_host': 'c1',
                      'claimed_at': mig.claimed_at}))
        self.assertEqual('c2', db_api.migration_get('m').conductor_host)


class _InSync(_Database, test_migrations.ModelsMigrationsSync):
    """Nothing in the models is missing from the migrations."""

    def get_engine(self):
        return db_api.get_engine()

    def get_metadata(self):
        return models.Base.metadata

    def db_sync(self, engine):
        migration.upgrade(engine=engine)


class TestWalkSQLite(_Walk, base.TestCase):
    DATABASE = 'sqlite'


class TestWalkMariaDB(_Walk, base.TestCase):
    DATABASE = 'mariadb'


class TestWalkPostgreSQL(_Walk, base.TestCase):
    DATABASE = 'postgresql'


class TestModelsInSyncSQLite(_InSync, base.TestCase):
    DATABASE = 'sqlite'


class TestModelsInSyncMariaDB(_InSync, base.TestCase):
    DATABASE = 'mariadb'


class TestModelsInSyncPostgreSQL(_InSync, base.TestCase):
    DATABASE = 'postgresql'
