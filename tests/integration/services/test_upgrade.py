"""Rolling upgrade: a conductor of this release pinned with
``[upgrade_levels] volume = 1.0`` drives a migration on a volume worker
of the release before (its endpoint at 1.0, without get_backend_stats)
and never sends it what it does not know."""

import os

import oslo_messaging as messaging

from migrator_api.common import context
from migrator_api.common import rpc
from migrator_api.conductor import volumes
from migrator_api.rpcapi import volume as volume_rpcapi
from tests import base
from tests.integration.services import agent
from tests.integration.services import deployment as dep
from tests.unit.volume import base as volume_base

SIZE = 8 * dep.MiB


class _Backend(object):
    host, name = 'old-host', 'old-backend'


class TestPinnedClient(base.TestCase):
    """The pin itself, against the older endpoint (fake transport)."""

    def setUp(self):
        super().setUp()
        self.useFixture(volume_base.MessagingFixture(self.conf))
        worker = agent.OldVolumeManager(host='old-host', conf=self.conf,
                                        backends={})
        server = rpc.get_server(rpc.VOLUME_TOPIC, 'old-host', [worker])
        server.start()
        self.addCleanup(server.wait)
        self.addCleanup(server.stop)
        self.ctxt = context.get_admin_context()

    def test_unpinned_client_sends_what_the_worker_refuses(self):
        api = volume_rpcapi.VolumeAPI(timeout=10)
        self.assertEqual(api.RPC_API_VERSION, api.version_cap)
        self.assertTrue(api.can_send_version('1.1'))
        self.assertRaises(messaging.UnsupportedVersion,
                          api.get_backend_stats, self.ctxt,
                          'old-host', 'old-backend')

    def test_pinned_client_asks_before_sending(self):
        self.flags(volume='1.0', group='upgrade_levels')
        api = volume_rpcapi.VolumeAPI(timeout=10)
        self.assertEqual('1.0', api.version_cap)
        self.assertFalse(api.can_send_version('1.1'))
        self.assertTrue(api.can_send_version('1.0'))
        # The 1.0 calls still work; the capacity waits for a heartbeat.
        self.assertIsNone(api.get_copy_status(self.ctxt, 'old-host', 'x'))
        self.assertFalse(volumes.refresh_capacity(self.ctxt, _Backend()))

    def test_a_pin_newer_than_the_release_caps_nothing(self):
        self.flags(volume='9.0', group='upgrade_levels')
        api = volume_rpcapi.VolumeAPI()
        self.assertEqual(api.RPC_API_VERSION, api.version_cap)


class TestRollingUpgrade(base.TestCase):

    def test_pinned_conductor_drives_an_older_worker(self):
        d = self.useFixture(dep.Deployment(
            self, conductors={'cond1': {'upgrade_levels': {'volume': '1.0'}}},
            worker_env={'MIGRATOR_TEST_WORKER': 'old'}))
        vol = d.create_volume(SIZE)
        data = d.write_pattern(vol)
        mig = d.migrate(vol['id'], 'file2')['migration']
        done = d.wait_migration(mig['id'])
        self.assertEqual(('success', None), (done['status'], done['error']))
        moved = d.api('GET', '/v1/volumes/%s' % vol['id'],
                      expect=200)[1]['volume']
        with open(d.path(moved), 'rb') as f:
            self.assertTrue(f.read() == data, 'the copy differs')
        logs = {}
        for name in ('cond1', 'vol1'):
            with open(os.path.join(d.state, '%s.log' % name)) as f:
                logs[name] = f.read()
        self.assertEqual(0, logs['vol1'].count('UnsupportedVersion'),
                         'the older worker was sent a call it lacks')
        self.assertEqual(0, logs['cond1'].count('Cannot read the capacity'),
                         'the conductor called what the worker lacks')
        # Three creates and deletes, each without the 1.1 call.
        self.assertGreaterEqual(
            logs['cond1'].count('volume RPC pinned to 1.0'), 3)
