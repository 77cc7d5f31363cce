"""Concurrency limits: migrations beyond a limit wait in ``queued`` and
start in the order they were accepted, never fail for it.

Real file backends and the real volume worker; copies are throttled so
that a migration holds its slot long enough to be watched.  Order and
exclusion are proven from the records (``created_at``, ``started_at``,
``finished_at``), not from timing.
"""

import threading

from oslo_utils import timeutils

from migrator_api.common import states
from migrator_api.conductor import api as conductor_api
from migrator_api.conductor import migrate
from migrator_api.conductor import slots
from migrator_api.conductor import watchdog
from migrator_api.db import api as db_api
from tests.functional.flows import base

MiB = base.MiB
SIZE = 4 * MiB


class _QueueTestCase(base.FlowTestCase):

    BPS_LIMIT = 4 * MiB      # about a second per migration
    LIMITS = {}

    def setUp(self):
        self.limits = dict({'max_concurrent_copies_per_worker': 0,
                            'max_concurrent_copies_per_backend': 0,
                            'max_concurrent_live_migrations': 0},
                           **self.LIMITS)
        super().setUp()
        self.flags(group='conductor', **self.limits)

    def volumes_with_data(self, backends, seed=0):
        vols = []
        for i, backend in enumerate(backends):
            vol = self.create_volume(SIZE, backend)
            vols.append((vol, self.write_pattern(self.path_of(vol), SIZE,
                                                 seed=seed + i)))
        return vols

    def finish_all(self, migs):
        finals = [self.wait_migration(m['id'])[0] for m in migs]
        for final in finals:
            self.assertEqual('success', final['status'], final)
        return finals

    def assert_moved(self, vols, backends):
        for (vol, expected), backend in zip(vols, backends):
            after = self.get_volume(vol['id'])
            self.assertEqual((backend, 'success'),
                             (after['backend'], after['migration_status']))
            self.assert_same_bytes(expected, self.path_of(after))
        self.assert_no_hidden_volumes()

    def assert_one_at_a_time(self, finals):
        """Started in acceptance order, each after the previous ended
        (the records' times: the API shows whole seconds)."""
        rows = [db_api.migration_get(f['id']) for f in finals]
        order = sorted(rows, key=lambda r: (r.created_at, r.id))
        self.assertEqual([r.id for r in order],
                         [r.id for r in sorted(rows,
                                               key=lambda r: r.started_at)])
        for before, after in zip(order, order[1:]):
            self.assertGreaterEqual(after.started_at, before.finished_at)

    def listed(self, status):
        return [m['id'] for m in self.app.get(
            '/v1/migrations?status=%s' % status).json['migrations']]


class TestWorkerLimit(_QueueTestCase):

    LIMITS = {'max_concurrent_copies_per_worker': 1}

    def test_three_migrations_one_at_a_time_in_order(self):
        vols = self.volumes_with_data(['file1'] * 3, seed=40)
        migs = [self.migrate(vol['id'], 'file2') for vol, _ in vols]
        for mig in migs:
            self.assertEqual('queued', mig['status'])
        # While the first copies, the two others wait, visibly.
        self.system.wait_for(
            lambda: self.listed('queued') == [m['id'] for m in migs[1:]]
            and self.get_migration(migs[0]['id'])['status'] == 'migrating',
            'one migrating, two queued')
        self.assertEqual(['queued', 'queued'],
                         [self.get_volume(v['id'])['migration_status']
                          for v, _ in vols[1:]])
        self.assertIsNone(self.get_migration(migs[2]['id'])['started_at'])
        finals = self.finish_all(migs)
        self.assert_one_at_a_time(finals)
        self.assert_moved(vols, ['file2'] * 3)
        self.assertEqual([], self.listed('queued'))

    def test_cancel_a_queued_migration(self):
        vols = self.volumes_with_data(['file1'] * 3, seed=50)
        first = self.migrate(vols[0][0]['id'], 'file2')
        second = self.migrate(vols[1][0]['id'], 'file2', force=True)
        third = self.migrate(vols[2][0]['id'], 'file2')
        self.assertEqual('maintenance',
                         self.get_volume(vols[1][0]['id'])['status'])
        resp = self.cancel(second['id'])
        # Ended at once: nothing was created for it.
        self.assertEqual(('cancelled', 'done'),
                         (resp['migration']['status'],
                          resp['migration']['phase']))
        row = db_api.migration_get(second['id'])
        self.assertIsNone(row.dest_volume_id)
        self.assertIsNone(row.started_at)
        vol = self.get_volume(vols[1][0]['id'])
        self.assertEqual(('file1', 'available', 'cancelled'),
                         (vol['backend'], vol['status'],
                          vol['migration_status']))
        self.cancel(second['id'], status=409)
        finals = self.finish_all([first, third])
        self.assert_one_at_a_time(finals)
        self.assert_moved([vols[0], vols[2]], ['file2', 'file2'])
        self.assert_same_bytes(vols[1][1], self.path_of(vol))

    def test_a_restarted_conductor_starts_what_was_queued(self):
        # Recorded and never cast (the conductor died first), one of
        # them claimed by a conductor that died in _queued.
        vols = self.volumes_with_data(['file1'] * 3, seed=60)
        migs = []
        for vol, _ in vols:
            facts = conductor_api.migration_facts(vol['id'], 'file2')
            migs.append(conductor_api.record_migration(facts, False))
        db_api.migration_claims_update(
            [migs[1].id], {'conductor_host': 'dead',
                           'claimed_at': timeutils.utcnow().replace(
                               year=2000)},
            expected={'conductor_host': None})
        self.assertEqual([m.id for m in migs], self.listed('queued'))
        watchdog.sweep(startup=True)
        finals = self.finish_all([{'id': m.id} for m in migs])
        self.assert_one_at_a_time(finals)
        self.assert_moved(vols, ['file2'] * 3)

    def test_racing_conductors_never_exceed_the_limit(self):
        # Many threads (as many conductors) try to start queued
        # migrations that share a worker at the same moment: one wins.
        vols = self.volumes_with_data(['file1'] * 4, seed=70)
        migs = []
        for vol, _ in vols:
            facts = conductor_api.migration_facts(vol['id'], 'file2')
            migs.append(conductor_api.record_migration(facts, False))
        barrier = threading.Barrier(len(migs))
        outcomes = {}

        def _try(mig):
            barrier.wait()
            outcomes[mig.id] = slots.start(mig)
        threads = [threading.Thread(target=_try, args=(m,)) for m in migs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # Only the first accepted may start: the others are behind it.
        self.assertEqual([slots.STARTED] + [slots.WAITING] * 3,
                         [outcomes[m.id] for m in migs])
        migrate.spawn(migs[0].id)
        finals = self.finish_all([{'id': m.id} for m in migs])
        self.assert_one_at_a_time(finals)
        self.assert_moved(vols, ['file2'] * 4)


class TestBackendLimit(_QueueTestCase):

    BACKENDS = {name: {'backend_type': 'file'}
                for name in ('file1', 'file2', 'file3', 'file4')}
    LIMITS = {'max_concurrent_copies_per_backend': 1}

    def test_a_backend_runs_one_migration_others_run_beside(self):
        vols = self.volumes_with_data(['file1', 'file2', 'file3'], seed=80)
        # a: file1 -> file2 runs; b: file2 -> file1 shares both backends
        # and waits; c: file3 -> file4 shares nothing and runs at once.
        a = self.migrate(vols[0][0]['id'], 'file2')
        b = self.migrate(vols[1][0]['id'], 'file1')
        c = self.migrate(vols[2][0]['id'], 'file4')
        self.finish_all([a, b, c])
        ra, rb, rc = [db_api.migration_get(m['id']) for m in (a, b, c)]
        self.assertGreaterEqual(rb.started_at, ra.finished_at)
        self.assertLess(rc.started_at, ra.finished_at)
        self.assert_moved(vols, ['file2', 'file1', 'file4'])


class TestNoLimit(_QueueTestCase):

    def test_unlimited_starts_everything(self):
        vols = self.volumes_with_data(['file1'] * 3, seed=90)
        migs = [self.migrate(vol['id'], 'file2') for vol, _ in vols]
        finals = self.finish_all(migs)
        rows = [db_api.migration_get(m['id']) for m in migs]
        self.assertLess(max(r.started_at for r in rows),
                        min(r.finished_at for r in rows))
        self.assert_moved(vols, ['file2'] * 3)
        self.assertEqual(states.M_SUCCESS, finals[0]['status'])


class TestQueuedCapacity(_QueueTestCase):
    """Admission counts the destination's room promised to the
    migrations queued to it: one that could not fit is refused at once
    (409), not accepted to fail later."""

    LIMITS = {'max_concurrent_copies_per_worker': 1}

    def setUp(self):
        self.devices = None
        super().setUp()

    @property
    def BACKENDS(self):
        if self.devices is None:
            self.devices = base.make_loop_devices(self, 2, SIZE)
        return {'blk': {'backend_type': 'block',
                        'block_devices': self.devices},
                'file1': {'backend_type': 'file'},
                'file2': {'backend_type': 'file'}}

    def test_a_migration_that_cannot_fit_behind_the_queue_is_refused(self):
        vols = self.volumes_with_data(['file1'] * 4, seed=110)
        self.assertEqual(2 * SIZE, self.free_bytes('blk'))
        first = self.migrate(vols[0][0]['id'], 'file2')   # holds the worker
        queued = [self.migrate(vol['id'], 'blk') for vol, _ in vols[1:3]]
        resp = self.app.post_json('/v1/migrations', {'migration': {
            'volume_id': vols[3][0]['id'], 'backend': 'blk'}}, status=409)
        self.assertIn('for the migrations queued to it',
                      resp.json['errors'][0]['detail'])
        self.assertIsNone(self.get_volume(vols[3][0]['id'])[
            'migration_status'])
        self.finish_all([first] + queued)
        self.assert_moved(vols[:3], ['file2', 'blk', 'blk'])
