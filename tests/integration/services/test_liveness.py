"""Liveness over RabbitMQ: conductors and agents heartbeat; the volume
worker killed in the middle of a copy goes down in /v1/services, its
backends go down after ``service_down_time``, a migration to them is
refused (409), and once the worker is started again it is up, resumes
the copy it lost (that migration succeeds: test_copy_resume tells how
much it copies twice) and migrates again."""

import os

from tests import base
from tests.integration.services import deployment as dep

SIZE = 24 * dep.MiB     # 3 s at the deployment's 8 MiB/s


class TestLiveness(base.TestCase):

    def _states(self, d):
        services = {(s['host'], s['binary']): s['state'] for s in
                    d.api('GET', '/v1/services', expect=200)[1]['services']}
        backends = {b['name']: b['state'] for b in
                    d.api('GET', '/v1/backends', expect=200)[1]['backends']}
        return services, backends

    def _all(self, d, state):
        services, backends = self._states(d)
        return set(backends.values()) == {state} and \
            services[('vol1', 'migrator-volume')] == state

    def test_killed_worker_goes_down_and_comes_back(self):
        d = self.useFixture(dep.Deployment(self))
        first, second = d.create_volume(SIZE), d.create_volume(SIZE)
        data = d.write_pattern(second)
        first_data = d.write_pattern(first)
        mig = d.migrate(first['id'], 'file2')['migration']
        d.wait_for(lambda: d.api('GET', '/v1/migrations/%s' % mig['id'])[1]
                   ['migration']['bytes_done'] > 0, 'the copy to start')
        d.procs['vol1'].kill()
        d.wait_for(lambda: self._all(d, 'down'), 'the worker down')
        services, _backends = self._states(d)
        self.assertEqual('up', services[('cond1', 'migrator-conductor')])
        self.assertEqual('up', services[('cond2', 'migrator-conductor')])
        body = d.migrate(second['id'], 'file2', expect=409)
        error = body['errors'][0]
        self.assertEqual('migrator.backend_unavailable', error['code'])
        self.assertIn('file2', error['detail'])
        self.assertIn('down', error['detail'])

        d.start_worker()
        d.wait_for(lambda: self._all(d, 'up'), 'the worker up again')
        resumed = d.wait_migration(mig['id'])
        self.assertEqual(('success', None),
                         (resumed['status'], resumed['error']))
        moved = d.api('GET', '/v1/volumes/%s' % first['id'],
                      expect=200)[1]['volume']
        with open(d.path(moved), 'rb') as f:
            self.assertTrue(f.read() == first_data, 'the resumed copy '
                            'differs')
        mig2 = d.migrate(second['id'], 'file2')['migration']
        done = d.wait_migration(mig2['id'])
        self.assertEqual(('success', None), (done['status'], done['error']))
        moved = d.api('GET', '/v1/volumes/%s' % second['id'],
                      expect=200)[1]['volume']
        with open(d.path(moved), 'rb') as f:
            self.assertTrue(f.read() == data, 'the copy differs')
        self.assertFalse(os.path.exists(d.path(second)))
