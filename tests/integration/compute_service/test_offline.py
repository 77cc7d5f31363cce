"""``[compute] driver = libvirt-offline`` behind the RPC interface, on
real libvirt domains: a migration starts only while the instance is shut
off, and the ends are reported as with the libvirt driver, across
restarts too."""

import libvirt

from migrator_api.common import exception
from tests.integration.compute_service import base
from tests.integration import fixtures_libvirt as fl

HOST = base.HOST


class TestOfflineService(base.ComputeServiceTestCase):

    def setUp(self):
        super().setUp()
        self.flags(group='compute', driver='libvirt-offline')
        self.service = self.start_service(report_interval=1)
        self.driver = self.service.manager.driver
        self.assertFalse(self.driver.supports_live_migration)

    def restart(self):
        self.service.stop()
        self.service = self.start_service()
        self.driver = self.service.manager.driver

    def volumes(self, uuid, n):
        """``n`` attached sources, each with an empty destination."""
        out = []
        for _i in range(n):
            src = self.lv.make_volume('file', size=4 * fl.MiB)
            dst = self.lv.make_volume('file', size=src.size,
                                      data=bytes(src.size))
            aid, target = self.attach_rpc(uuid, src)
            out.append((aid, target, src, dst))
        return out

    def assert_locked(self, uuid):
        self.assertRaises(libvirt.libvirtError, self.lv.domain(uuid).create)

    def test_heartbeat(self):
        self.assertTrue(self.conductor.wait_for(lambda: self.conductor.states))
        self.assertEqual((HOST, 'migrator-compute', None),
                         self.conductor.states[0])

    def test_instances_and_migrations(self):
        uuid = self.lv.create_domain()
        [(a1, t1, src1, dst1), (a2, t2, src2, _dst2)] = self.volumes(uuid, 2)
        self.assertEqual('running', self.api.get_instance(
            self.ctxt, HOST, uuid)['power_state'])
        e = self.assertRaises(exception.InstanceNotFreezable,
                              self.api.volume_migration_start, self.ctxt,
                              HOST, uuid, a1)
        self.assertIn('shut-off instances only', str(e))
        self.lv.domain(uuid).destroy()
        self.assertEqual('shutoff', self.api.get_instance(
            self.ctxt, HOST, uuid)['power_state'])
        for aid in (a1, a2):
            self.assertEqual({'mode': 'offline'},
                             self.api.volume_migration_start(
                                 self.ctxt, HOST, uuid, aid))
        self.assert_locked(uuid)
        self.freeze_copy(src1, dst1)
        self.assertEqual({'target': t1}, self.api.volume_migration_complete(
            self.ctxt, HOST, uuid, a1, a1 + 'b', dst1.connection_info, 'm-1'))
        self.assertEqual(('complete', None),
                         self.conductor.wait_report(self, 'm-1'))
        self.assertEqual(dst1.connection_info,
                         self.driver.attachment(a1 + 'b')['connection_info'])
        self.assert_locked(uuid)                    # a2 still migrates
        self.api.volume_migration_cancel(self.ctxt, HOST, uuid, a2, 'm-2')
        self.assertEqual(('cancel', None),
                         self.conductor.wait_report(self, 'm-2'))
        self.assertEqual(src2.connection_info,
                         self.driver.attachment(a2)['connection_info'])
        # A cancel of an impossible attachment id is reported too.
        self.api.volume_migration_cancel(self.ctxt, HOST, uuid, '../x', 'm-3')
        op, error = self.conductor.wait_report(self, 'm-3')
        self.assertIn('../x', error)
        self.lv.domain(uuid).create()
        self.assert_on(uuid, t1, dst1)
        self.assert_on(uuid, t2, src2)
        self.api.detach_volume(self.ctxt, HOST, uuid, a1 + 'b')
        self.assertEqual([], self.migration_records())

    def test_restart_reports_what_was_owed(self):
        uuid = self.lv.create_domain(start=False)
        vols = self.volumes(uuid, 3)
        for aid, _t, src, dst in vols:
            self.api.volume_migration_start(self.ctxt, HOST, uuid, aid)
            self.freeze_copy(src, dst)
        [(a1, t1, _s1, dst1), (a2, t2, _s2, dst2), (a3, t3, src3, _d3)] = vols
        mgr = self.service.manager
        # a1: the agent died inside complete after its switch; a2:
        # inside complete before anything happened; a3: after taking a
        # cancel, before the unlock.
        mgr._remember('complete', a1, 'm-1', uuid, a1 + 'b')
        rec = self.driver.journal.load(a1)
        self.driver.journal.set_step(
            rec, 'complete:offline', dst_attachment_id=a1 + 'b',
            dst_connection_info=dst1.connection_info, destination=dst1.path,
            destination_kind='file')
        mgr._remember('complete', a2, 'm-2', uuid, a2 + 'b')
        mgr._remember('cancel', a3, 'm-3', uuid)
        self.restart()
        self.assertTrue(self.conductor.wait_for(
            lambda: len(self.conductor.finished) == 3))
        self.assertEqual([('complete', None)], self.conductor.reports('m-1'))
        self.assertEqual(dst1.connection_info,
                         self.driver.attachment(a1 + 'b')['connection_info'])
        [(op, error)] = self.conductor.reports('m-2')
        self.assertEqual('complete', op)
        self.assertIn('still frozen', error)
        self.assertEqual('offline:locked', self.driver.migration_state(a2))
        self.assertEqual([('cancel', None)], self.conductor.reports('m-3'))
        self.assertIsNone(self.driver.migration_state(a3))
        self.assertEqual([], self.migration_records())
        self.assert_locked(uuid)
        # a2 may still complete, and then the instance may start.
        self.api.volume_migration_complete(self.ctxt, HOST, uuid, a2, a2 + 'b',
                                           dst2.connection_info, 'm-2')
        self.assertTrue(self.conductor.wait_for(
            lambda: len(self.conductor.reports('m-2')) == 2))
        self.assertEqual(('complete', None), self.conductor.reports('m-2')[1])
        self.lv.domain(uuid).create()
        self.assert_on(uuid, t1, dst1)
        self.assert_on(uuid, t2, dst2)
        self.assert_on(uuid, t3, src3)
