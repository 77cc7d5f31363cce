"""Concurrency limits through the deployed processes: two conductors
(each with ``[conductor] max_concurrent_copies_per_worker = 1``) over
RabbitMQ and MariaDB, one volume worker.  Three migrations accepted at
once run one after another, in the order they were accepted, whichever
conductor receives which message, and all succeed with every byte
compared; then both conductors are killed with migrations queued and a
new one, started alone, finishes them."""

from tests import base
from tests.integration.services import deployment as dep

SIZE = 16 * dep.MiB     # two seconds at the worker's 8 MiB/s
LIMITED = {'conductor': {'max_concurrent_copies_per_worker': 1,
                         'max_concurrent_copies_per_backend': 0}}


class TestQueueDeployed(base.TestCase):

    def setUp(self):
        super().setUp()
        self.d = self.useFixture(dep.Deployment(
            self, conductors={'cond1': LIMITED, 'cond2': LIMITED}))

    def _volumes(self, count):
        vols = [self.d.create_volume(SIZE) for _ in range(count)]
        return [(vol, self.d.write_pattern(vol)) for vol in vols]

    def _rows(self, migs):
        return [self.d.row('SELECT id, created_at, started_at, finished_at '
                           'FROM migrations WHERE id = :id', id=m['id'])
                for m in migs]

    def _check(self, vols, migs):
        for mig in migs:
            done = self.d.wait_migration(mig['id'])
            self.assertEqual(('success', None),
                             (done['status'], done['error']))
        for vol, data in vols:
            moved = self.d.api('GET', '/v1/volumes/%s' % vol['id'],
                               expect=200)[1]['volume']
            self.assertEqual('file2', moved['backend'])
            with open(self.d.path(moved), 'rb') as f:
                self.assertTrue(f.read() == data, 'the copy differs')
        # Started in the order they were accepted (``migs``).
        order = self._rows(migs)
        self.assertEqual([m['id'] for m in migs],
                         [r['id'] for r in sorted(
                             order, key=lambda r: r['started_at'])])
        for before, after in zip(order, order[1:]):
            self.assertGreaterEqual(after['started_at'],
                                    before['finished_at'])

    def test_one_at_a_time_across_two_conductors(self):
        vols = self._volumes(3)
        migs = [self.d.migrate(vol['id'], 'file2')['migration']
                for vol, _ in vols]
        self.assertEqual(['queued'] * 3, [m['status'] for m in migs])
        self._check(vols, migs)

    def test_queued_migrations_outlive_their_conductors(self):
        vols = self._volumes(3)
        migs = [self.d.migrate(vol['id'], 'file2')['migration']
                for vol, _ in vols]
        self.d.wait_for(lambda: self.d.row(
            "SELECT count(*) AS n FROM migrations WHERE status = "
            "'queued'")['n'] == 2 and self.d.row(
                "SELECT bytes_done FROM migrations WHERE id = :id",
                id=migs[0]['id'])['bytes_done'] > 0,
            'one copying, two queued')
        for host in ('cond1', 'cond2'):
            self.d.procs[host].kill()
        self.d.start_conductor('cond3', LIMITED)
        self._check(vols, migs)
