"""In-use migrations: block backends, two volumes of one guest at once,
and a compute agent that is down when the guest must be switched."""

import libvirt

from migrator_api.common import states
from migrator_api.db import api as db_api
from tests.functional.flows import base as flow_base
from tests.integration import fixtures_libvirt as lv
from tests.integration.inuse import base

MiB = base.MiB


class TestBlockAndTwoVolumes(base.InUseTestCase):

    def setUp(self):
        self.devices = None
        super().setUp()

    @property
    def BACKENDS(self):
        if self.devices is None:
            self.devices = flow_base.make_loop_devices(self, 2, 24 * MiB)
        return {'file1': {'backend_type': 'file'},
                'file2': {'backend_type': 'file'},
                'blk': {'backend_type': 'block',
                        'block_devices': self.devices}}

    def _finish(self, instance, att, model, vol_id):
        self.settle(instance)
        lv.guest_flush(self.lv.domain(instance), att['device'])
        after = self.get_volume(vol_id)
        self.assert_same_bytes(bytes(model), self.path_of(after))
        return after

    def test_file_to_block_then_block_to_file(self):
        instance = self.lv.create_domain()
        vol, model = self.random_volume('file1')
        att = self.attach(vol, instance)
        for target in ('blk', 'file2'):
            writer = self.writer(instance, att['device'], model)
            final, _ = self.wait_migration(
                self.migrate(vol['id'], target)['id'])
            writer.wait_for(3)
            writer.stop()
            self.assertEqual('success', final['status'], final)
            self.assertGreater(writer.phases['copying'], 0)
            after = self._finish(instance, att, model, vol['id'])
            self.assertEqual(target, after['backend'])
            att = after['attachments'][0]

    def test_two_volumes_of_one_guest_at_once(self):
        # (One at a time is the default: test_in_use_queue.py.)
        self.flags(max_concurrent_live_migrations=0, group='conductor')
        instance = self.lv.create_domain()
        vols = [self.random_volume('file1') for _ in range(2)]
        atts = [self.attach(vol, instance) for vol, _ in vols]
        self.assertNotEqual(atts[0]['device'], atts[1]['device'])
        writers = [self.writer(instance, att['device'], model)
                   for att, (_, model) in zip(atts, vols)]
        migs = [self.migrate(vols[0][0]['id'], 'file2'),
                self.migrate(vols[1][0]['id'], 'blk')]
        finals = [self.wait_migration(m['id'])[0] for m in migs]
        for writer in writers:
            writer.wait_for(3)
            writer.stop()
        self.assertEqual(['success', 'success'],
                         [f['status'] for f in finals], finals)
        for att, (vol, model) in zip(atts, vols):
            self._finish(instance, att, model, vol['id'])


class TestComputeAgentDown(base.InUseTestCase):

    def test_agent_down_at_the_switch_then_back(self):
        self.flags(rpc_call_timeout=2, copy_report_timeout=5,
                   group='conductor')
        instance = self.lv.create_domain()
        vol, model = self.random_volume('file1', 24 * MiB)
        att = self.attach(vol, instance)
        writer = self.writer(instance, att['device'], model)
        mig = self.migrate(vol['id'], 'file2')
        self.system.wait_for(
            lambda: self.get_migration(mig['id'])['status'] == 'migrating',
            'frozen and copying')
        # The agent goes away while the guest runs frozen on its overlay.
        self.system.compute_service.stop()
        self.system.wait_for(
            lambda: db_api.migration_get(mig['id']).error is not None,
            'the switch failed', 120)
        row = db_api.migration_get(mig['id'])
        self.assertEqual((states.M_COMPLETING, states.P_SWITCHING),
                         (row.status, row.phase))
        # It comes back: it recovers from its journal; the watchdog
        # retries the switch.
        self.system.start_compute()
        final, _ = self.wait_migration(mig['id'], timeout=180)
        writer.wait_for(3)
        writer.stop()
        self.assertEqual('success', final['status'], final)
        self.settle(instance)
        lv.guest_flush(self.lv.domain(instance), att['device'])
        after = self.get_volume(vol['id'])
        self.assert_same_bytes(bytes(model), self.path_of(after))
        self.assertIn(self.path_of(after), self.lv.domain(instance).XMLDesc(
            libvirt.VIR_DOMAIN_XML_INACTIVE))


class TestLibvirtdRestart(base.InUseTestCase):

    EXCLUSIVE = True

    def test_libvirtd_restarts_during_the_copy(self):
        instance = self.lv.create_domain()
        vol, model = self.random_volume('file1', 24 * MiB)
        att = self.attach(vol, instance)
        mig = self.migrate(vol['id'], 'file2')
        self.system.wait_for(
            lambda: self.get_migration(mig['id'])['status'] == 'migrating',
            'frozen and copying')
        lv.restart_libvirtd()
        self.lv.reconnect()
        writer = self.writer(instance, att['device'], model)
        final, _ = self.wait_migration(mig['id'], timeout=180)
        writer.wait_for(3)
        writer.stop()
        self.assertEqual('success', final['status'], final)
        self.settle(instance)
        lv.guest_flush(self.lv.domain(instance), att['device'])
        self.assert_same_bytes(bytes(model),
                               self.path_of(self.get_volume(vol['id'])))
