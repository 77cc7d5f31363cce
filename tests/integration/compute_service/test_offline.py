"""The offline driver ([compute] driver = offline) behind the same RPC
interface: a migration starts only while the instance is shut off, and
the ends are reported as with the libvirt driver, across restarts too."""

import os

from migrator_api.common import exception
from migrator_compute.drivers import offline
from tests import base as tests_base
from tests.integration.compute_service import base

HOST = base.HOST


class TestOfflineService(base.ServiceMixin, tests_base.TestCase):

    def setUp(self):
        super().setUp()
        self.flags(group='compute', driver='offline')
        self.setup_messaging()
        self.service = self.start_service(report_interval=1)
        self.driver = self.service.manager.driver
        self.assertIsInstance(self.driver, offline.OfflineDriver)

    def conn(self, name):
        return {'driver_volume_type': 'file',
                'data': {'path': os.path.join(self.state_path, name)}}

    def restart(self):
        self.service.stop()
        self.service = self.start_service()
        self.driver = self.service.manager.driver

    def test_heartbeat(self):
        self.assertTrue(self.conductor.wait_for(lambda: self.conductor.states))
        self.assertEqual((HOST, 'migrator-compute', None),
                         self.conductor.states[0])

    def test_instances_and_migrations(self):
        self.assertRaises(exception.InstanceNotFound, self.api.get_instance,
                          self.ctxt, HOST, 'inst-1')
        self.driver.set_power_state('inst-1', 'running')
        self.assertEqual({'uuid': 'inst-1', 'name': 'inst-1',
                          'power_state': 'running'},
                         self.api.get_instance(self.ctxt, HOST, 'inst-1'))
        self.assertEqual({'target': 'disk0'}, self.api.attach_volume(
            self.ctxt, HOST, 'inst-1', 'a-1', self.conn('v1')))
        self.api.attach_volume(self.ctxt, HOST, 'inst-1', 'a-2',
                               self.conn('v2'))
        e = self.assertRaises(exception.InstanceNotFreezable,
                              self.api.volume_migration_start, self.ctxt,
                              HOST, 'inst-1', 'a-1')
        self.assertIn('running', str(e))
        self.driver.set_power_state('inst-1', 'shutoff')
        for aid in ('a-1', 'a-2'):
            self.assertEqual({'mode': 'offline'},
                             self.api.volume_migration_start(
                                 self.ctxt, HOST, 'inst-1', aid))
        self.assertRaises(exception.Conflict, self.driver.power_on, 'inst-1')
        self.assertEqual({'target': 'disk0'},
                         self.api.volume_migration_complete(
                             self.ctxt, HOST, 'inst-1', 'a-1', 'a-1b',
                             self.conn('v1b'), 'm-1'))
        self.assertEqual(('complete', None),
                         self.conductor.wait_report(self, 'm-1'))
        self.assertEqual(self.conn('v1b'), self.driver.connection_info('a-1b'))
        self.api.volume_migration_cancel(self.ctxt, HOST, 'inst-1', 'a-2',
                                         'm-2')
        self.assertEqual(('cancel', None),
                         self.conductor.wait_report(self, 'm-2'))
        self.assertEqual(self.conn('v2'), self.driver.connection_info('a-2'))
        # A cancel of an impossible attachment id is reported too.
        self.api.volume_migration_cancel(self.ctxt, HOST, 'inst-1', '../x',
                                         'm-3')
        op, error = self.conductor.wait_report(self, 'm-3')
        self.assertIn('../x', error)
        self.driver.power_on('inst-1')
        self.api.detach_volume(self.ctxt, HOST, 'inst-1', 'a-1b')
        self.assertEqual([], self.migration_records())

    def test_restart_reports_what_was_owed(self):
        self.driver.set_power_state('inst-1', 'shutoff')
        for aid in ('a-1', 'a-2', 'a-3'):
            self.api.attach_volume(self.ctxt, HOST, 'inst-1', aid,
                                   self.conn(aid))
            self.api.volume_migration_start(self.ctxt, HOST, 'inst-1', aid)
        mgr = self.service.manager
        # a-1: the agent died inside complete after its switch; a-2:
        # inside complete before anything happened; a-3: after taking a
        # cancel, before the unlock.
        mgr._remember('complete', 'a-1', 'm-1', 'inst-1', 'a-1b')
        rec = self.driver.journal.load('a-1')
        self.driver.journal.set_step(
            rec, 'complete:offline', dst_attachment_id='a-1b',
            dst_connection_info=self.conn('a-1b'), destination='/x',
            destination_kind='file')
        mgr._remember('complete', 'a-2', 'm-2', 'inst-1', 'a-2b')
        mgr._remember('cancel', 'a-3', 'm-3', 'inst-1')
        self.restart()
        self.assertTrue(self.conductor.wait_for(
            lambda: len(self.conductor.finished) == 3))
        self.assertEqual([('complete', None)], self.conductor.reports('m-1'))
        self.assertEqual(self.conn('a-1b'),
                         self.driver.connection_info('a-1b'))
        [(op, error)] = self.conductor.reports('m-2')
        self.assertEqual('complete', op)
        self.assertIn('still frozen', error)
        self.assertEqual('offline:locked', self.driver.migration_state('a-2'))
        self.assertEqual([('cancel', None)], self.conductor.reports('m-3'))
        self.assertIsNone(self.driver.migration_state('a-3'))
        self.assertEqual([], self.migration_records())
        # a-2 may still complete, and then the instance may start.
        self.api.volume_migration_complete(self.ctxt, HOST, 'inst-1', 'a-2',
                                           'a-2b', self.conn('a-2b'),
                                           'm-2')
        self.assertTrue(self.conductor.wait_for(
            lambda: len(self.conductor.reports('m-2')) == 2))
        self.assertEqual(('complete', None), self.conductor.reports('m-2')[1])
        self.driver.power_on('inst-1')
