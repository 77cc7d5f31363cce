"""Concurrency limits on MariaDB and PostgreSQL: many conductors (one
thread each, its own connection and transaction) start queued
migrations that share a volume worker at the same instant; at no
moment do more hold a slot than the limit, and they start in the order
they were accepted.  (tests/functional/flows/test_queue.py runs the
whole flows on SQLite.)"""

import threading
import uuid

from oslo_utils import timeutils

from migrator_api.common import states
from migrator_api.conductor import api as conductor_api
from migrator_api.conductor import slots
from migrator_api.db import api as db_api
from migrator_api.db import migration
from migrator_testing import services
from tests import base

MiB = 1024 * 1024
COUNT = 12
LIMIT = 3


class _Race(object):
    DATABASE = None

    def setUp(self):
        super().setUp()
        name = 'mig_slots_%s' % uuid.uuid4().hex[:12]
        make = {'mariadb': services.mariadb,
                'postgresql': services.postgresql}[self.DATABASE]
        url = make(database=name)
        self.addCleanup(services.drop_database, url)
        self.flags(connection=url, group='database')
        self.flags(max_concurrent_copies_per_worker=LIMIT,
                   max_concurrent_copies_per_backend=0,
                   max_concurrent_live_migrations=0, group='conductor')
        db_api.configure(self.conf)
        self.addCleanup(db_api.dispose)
        migration.upgrade()
        db_api.service_report('h1', states.BINARY_VOLUME)
        db_api.backend_sync('h1', [
            {'name': n, 'backend_type': 'file', 'capabilities': {},
             'total_capacity_bytes': 1 << 40,
             'free_capacity_bytes': 1 << 40} for n in ('b1', 'b2')])
        self.migs = []
        for i in range(COUNT):
            vol = db_api.volume_create({
                'name': 'v%d' % i, 'size': MiB, 'status': states.AVAILABLE,
                'backend_id': db_api.backend_get('b1').id,
                'hidden': False})
            facts = conductor_api.migration_facts(vol.id, 'b2')
            self.migs.append(conductor_api.record_migration(facts, False))

    def _race(self, migs, ending):
        """Start ``migs`` and end ``ending`` (started ones), all at the
        same instant, each in a thread with its own transaction."""
        barrier = threading.Barrier(len(migs) + len(ending))
        outcomes, errors = {}, []

        def _try(mig):
            try:
                barrier.wait()
                outcomes[mig.id] = slots.start(mig)
            except Exception as exc:   # reported below
                errors.append(exc)

        def _end(mig_id):
            barrier.wait()
            db_api.migration_update(
                mig_id, {'phase': states.P_DONE, 'status': states.M_SUCCESS,
                         'finished_at': timeutils.utcnow()})
        threads = [threading.Thread(target=_try, args=(m,)) for m in migs]
        threads += [threading.Thread(target=_end, args=(i,)) for i in ending]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual([], errors)
        return outcomes

    def _holding(self):
        return [m.id for m in db_api.migration_get_all(
            {'status': list(states.MIGRATION_STARTED)})]

    def test_never_more_than_the_limit_and_in_order(self):
        # The order of acceptance, also within one second on MariaDB
        # (whose DATETIME keeps whole seconds; the ids sort by time).
        order = [m.id for m in self.migs]
        self.assertEqual(order, [m.id for m in db_api.migration_get_queued()])
        started, holding = [], []
        for _round in range(5 * COUNT):
            if len(started) == COUNT:
                break
            outcomes = self._race(db_api.migration_get_queued(),
                                  holding[:1])
            holding = self._holding()
            self.assertLessEqual(len(holding), LIMIT)
            started += [i for i in order
                        if outcomes.get(i) == slots.STARTED]
            # First come, first served, whoever tried first.
            self.assertEqual(order[:len(started)], started)
        self.assertEqual(order, started)


class TestOnMariaDB(_Race, base.TestCase):
    DATABASE = 'mariadb'


class TestOnPostgreSQL(_Race, base.TestCase):
    DATABASE = 'postgresql'
