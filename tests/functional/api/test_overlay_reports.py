"""The compute agent's overlay reports (ConductorAPI.overlay_progress,
1.1): the size recorded on the migration and shown by the API; the
report that the agent gave the migration up ends it in error.  And the
migration id the conductor gives the agent at start (compute 1.1)."""

import oslo_messaging as messaging

from migrator_api.common import context
from migrator_api.common import rpc
from migrator_api.common import states
from migrator_api.conductor import manager
from migrator_api.conductor import migrate
from migrator_api.db import api as db_api
from migrator_api.rpcapi import compute as compute_rpcapi
from migrator_api.rpcapi import conductor as conductor_rpcapi
from tests.functional.api import base

MIB = 1024 * 1024


class OverlayReportsTest(base.APITestCase):

    def setUp(self):
        super().setUp()
        self.endpoint = manager.ConductorManager('cond-test')
        self.ctxt = context.get_admin_context()

    def _frozen(self, phase=states.P_COPYING, status=states.M_MIGRATING):
        vol = self.make_volume(status=states.IN_USE)
        mig = self.make_migration(
            vol, phase=phase, status=status, frozen=True,
            compute_host=base.COMPUTE_HOST,
            instance_uuid=base.INSTANCE,
            attachment_id='5b7a3ee1-9b4e-4cf0-9c4e-3f6a0b0d0c01')
        return vol, mig

    def _report(self, mig, overlay_bytes, error=None):
        self.endpoint.overlay_progress(self.ctxt, mig.id, overlay_bytes,
                                       error)
        migrate.wait_idle()
        return db_api.migration_get(mig.id)

    def _shown(self, mig):
        return self.app.get('/v1/migrations/%s' % mig.id).json['migration']

    def test_size_recorded_and_shown(self):
        vol, mig = self._frozen()
        self.assertIsNone(self._shown(mig)['overlay_bytes'])
        for size in (3 * MIB, 7 * MIB):
            row = self._report(mig, size)
            self.assertEqual(size, row.overlay_bytes)
            self.assertEqual(size, self._shown(mig)['overlay_bytes'])
        # A report is no move of the migration: the watchdog reads
        # updated_at as the time of the last one.
        self.assertEqual(mig.updated_at, row.updated_at)
        self.assertEqual((states.P_COPYING, states.M_MIGRATING, None),
                         (row.phase, row.status, row.error))

    def test_size_of_a_finished_migration_is_kept(self):
        vol, mig = self._frozen()
        self._report(mig, 5 * MIB)
        db_api.migration_update(mig.id, {'phase': states.P_DONE,
                                         'status': states.M_SUCCESS})
        row = self._report(mig, 9 * MIB)
        self.assertEqual(5 * MIB, row.overlay_bytes)

    def test_unknown_migration_is_ignored(self):
        self.endpoint.overlay_progress(self.ctxt, 'no-such-migration', 1)

    def test_given_up_migration_ends_in_error(self):
        vol, mig = self._frozen()
        reason = ('the overlay reached %d bytes, over the cap of %d'
                  % (9 * MIB, 8 * MIB))
        row = self._report(mig, 9 * MIB, reason)
        self.assertEqual((states.P_DONE, states.M_ERROR, 9 * MIB),
                         (row.phase, row.status, row.overlay_bytes))
        self.assertIn(reason, row.error)
        self.assertIn('rolled the guest back onto its source', row.error)
        self.assertEqual(states.M_ERROR,
                         db_api.volume_get(vol.id).migration_status)
        shown = self._shown(mig)
        self.assertEqual(row.error, shown['error'])
        self.assertEqual(9 * MIB, shown['overlay_bytes'])

    def test_given_up_while_freezing(self):
        vol, mig = self._frozen(phase=states.P_FREEZING,
                                status=states.M_STARTING)
        row = self._report(mig, MIB, 'over the cap')
        self.assertEqual((states.P_DONE, states.M_ERROR),
                         (row.phase, row.status))

    def test_given_up_while_switching_rolls_back(self):
        # The agent gave up before the complete reached it: the switch
        # never happened, so the migration rolls back from switching.
        vol, mig = self._frozen(phase=states.P_SWITCHING,
                                status=states.M_COMPLETING)
        row = self._report(mig, 9 * MIB, 'over the cap')
        self.assertEqual((states.P_DONE, states.M_ERROR),
                         (row.phase, row.status))
        self.assertIn('over the cap', row.error)

    def test_given_up_after_the_switch_is_only_logged(self):
        vol, mig = self._frozen(phase=states.P_FINALIZING,
                                status=states.M_COMPLETING)
        row = self._report(mig, MIB, 'over the cap')
        self.assertEqual((states.P_FINALIZING, None),
                         (row.phase, row.error))

    def test_client_pinned_to_1_0_does_not_send_it(self):
        self.flags(conductor='1.0', group='upgrade_levels')
        self.assertFalse(
            conductor_rpcapi.ConductorAPI().can_send_version('1.1'))
        self.flags(conductor=None, group='upgrade_levels')
        api = conductor_rpcapi.ConductorAPI()
        self.assertTrue(api.can_send_version('1.1'))
        api.overlay_progress(self.ctxt, 'm', 5, None)
        self.assertIn(('overlay_progress',
                       {'migration_id': 'm', 'overlay_bytes': 5,
                        'error': None}), self.casts())


class _Compute10:
    """A compute agent of RPC 1.0: volume_migration_start has no
    migration_id."""

    target = messaging.Target(version='1.0')

    def volume_migration_start(self, ctxt, instance_uuid, attachment_id):
        return {'mode': 'live', 'version': '1.0'}


class _Compute11(_Compute10):

    target = messaging.Target(version='1.1')

    def volume_migration_start(self, ctxt, instance_uuid, attachment_id,
                               migration_id=None):
        return {'mode': 'live', 'migration_id': migration_id}


class ComputeStartVersionsTest(base.APITestCase):
    """The conductor tells the agent the migration id (compute RPC 1.1)
    unless ``[upgrade_levels] compute`` pins 1.0."""

    def _serve(self, host, endpoint):
        server = rpc.get_server(rpc.COMPUTE_TOPIC, host, [endpoint])
        server.start()
        self.addCleanup(server.wait)
        self.addCleanup(server.stop)

    def test_versions(self):
        self._serve('old-node', _Compute10())
        self._serve('new-node', _Compute11())
        ctxt = context.get_admin_context()
        api = compute_rpcapi.ComputeAPI(timeout=10)
        self.assertEqual({'mode': 'live', 'migration_id': 'm1'},
                         api.volume_migration_start(ctxt, 'new-node', 'i',
                                                    'a', migration_id='m1'))
        self.assertRaises(messaging.UnsupportedVersion,
                          api.volume_migration_start, ctxt, 'old-node', 'i',
                          'a', migration_id='m1')
        self.flags(compute='1.0', group='upgrade_levels')
        api = compute_rpcapi.ComputeAPI(timeout=10)
        for host in ('old-node', 'new-node'):
            self.assertEqual('live', api.volume_migration_start(
                ctxt, host, 'i', 'a', migration_id='m1')['mode'])
        self.assertEqual({'mode': 'live', 'version': '1.0'},
                         api.volume_migration_start(ctxt, 'old-node', 'i',
                                                    'a', migration_id='m1'))
