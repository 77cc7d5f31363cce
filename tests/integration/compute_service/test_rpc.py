"""The compute contract through migrator_compute.rpcapi, served by a
real ComputeManager over oslo.messaging, on real libvirt domains with a
guest writing before, during and after every step; every byte is
compared at the end, and each asynchronous end is reported to the
conductor."""

import os
import sys
import uuid as uuid_mod

from oslo_messaging._drivers import common as rpc_common

from migrator_api.common import exception
from migrator_api.common import rpc
from tests.integration.compute_service import base
from tests.integration import fixtures_libvirt as fl

HOST = base.HOST


class TestComputeRPC(base.ComputeServiceTestCase):

    def setUp(self):
        super().setUp()
        self.service = self.start_service()

    def test_get_instance(self):
        running = self.lv.create_domain()
        stopped = self.lv.create_domain(start=False)
        self.assertEqual(
            {'uuid': running, 'name': self.lv.domain(running).name(),
             'power_state': 'running'},
            self.api.get_instance(self.ctxt, HOST, running))
        self.assertEqual('shutoff', self.api.get_instance(
            self.ctxt, HOST, stopped)['power_state'])
        for unknown in (str(uuid_mod.uuid4()), 'not-a-uuid'):
            e = self.assertRaises(exception.InstanceNotFound,
                                  self.api.get_instance, self.ctxt, HOST,
                                  unknown)
            self.assertIn(unknown, str(e))
            self.assertIn(HOST, str(e))
            self.assertEqual(404, e.code)

    def test_instance_not_found_survives_serialization(self):
        """The fake transport hands exceptions over as objects; a real
        one serializes them, and the caller rebuilds them from the
        modules allowed by rpc.ALLOWED_EXMODS."""
        unknown = str(uuid_mod.uuid4())
        try:
            self.api.get_instance(self.ctxt, HOST, unknown)
        except exception.InstanceNotFound:
            data = rpc_common.serialize_remote_exception(sys.exc_info())
        back = rpc_common.deserialize_remote_exception(data,
                                                       rpc.ALLOWED_EXMODS)
        self.assertIsInstance(back, exception.InstanceNotFound)
        self.assertEqual({'instance': unknown, 'host': HOST}, back.kwargs)
        self.assertEqual('migrator.instance_not_found', back.error_code)
        self.assertNotIsInstance(
            rpc_common.deserialize_remote_exception(data, []),
            exception.InstanceNotFound)

    def test_attach_detach_and_refusals(self):
        uuid = self.lv.create_domain()
        other = self.lv.create_domain(start=False)
        vol = self.lv.make_volume('block', size=4 * fl.MiB)
        aid, target = self.attach_rpc(uuid, vol)
        self.assertEqual('sda', target)
        self.assertEqual({'target': 'sda', 'bus': 'scsi'},
                         self.api.attach_volume(self.ctxt, HOST, uuid, aid,
                                                vol.connection_info))
        self.assert_on(uuid, target, vol)
        self.assertRaises(exception.InstanceNotFound, self.api.attach_volume,
                          self.ctxt, HOST, str(uuid_mod.uuid4()), 'a-x',
                          vol.connection_info)
        self.assertRaises(exception.InvalidInput, self.api.attach_volume,
                          self.ctxt, HOST, uuid, 'a-y',
                          {'driver_volume_type': 'rbd', 'data': {}})
        # A cancel (a cast) of nothing is refused, and that is reported.
        self.api.volume_migration_cancel(self.ctxt, HOST, uuid, aid, 'm-0')
        op, error = self.conductor.wait_report(self, 'm-0')
        self.assertEqual('cancel', op)
        self.assertIn('not migrating', error)
        # Shared with another domain: a migration is refused.
        shared, _t = self.attach_rpc(other, vol)
        self.assertRaises(exception.MultiAttachRefused,
                          self.api.volume_migration_start, self.ctxt, HOST,
                          uuid, aid)
        self.api.detach_volume(self.ctxt, HOST, other, shared)
        self.assertEqual({'mode': 'live'}, self.api.volume_migration_start(
            self.ctxt, HOST, uuid, aid))
        self.assertRaises(exception.Conflict, self.api.detach_volume,
                          self.ctxt, HOST, uuid, aid)
        self.api.volume_migration_cancel(self.ctxt, HOST, uuid, aid, 'm-1')
        self.assertEqual(('cancel', None),
                         self.conductor.wait_report(self, 'm-1'))
        self.api.detach_volume(self.ctxt, HOST, uuid, aid)
        self.assertEqual([], self.live_chain(uuid, target))
        self.assertEqual([], self.persistent_chain(uuid, target))
        self.assertRaises(exception.AttachmentNotFound,
                          self.api.detach_volume, self.ctxt, HOST, uuid, aid)
        self.assertEqual([], self.migration_records())
        self.assertEqual(1, len(self.conductor.reports('m-1')))

    def test_start_then_complete(self):
        uuid = self.lv.create_domain()
        aid, target, src, dst, model, w = self.writing_disk(
            uuid, 'file', 'block', seed=21)
        self.assertEqual({'mode': 'live'}, self.api.volume_migration_start(
            self.ctxt, HOST, uuid, aid))
        w.wait_for(3)                                 # frozen
        frozen = self.freeze_copy(src, dst)
        w.wait_for(3)
        self.assertEqual(frozen, src.read())
        dst_aid = str(uuid_mod.uuid4())
        self.assertEqual({'target': target},
                         self.api.volume_migration_complete(
                             self.ctxt, HOST, uuid, aid, dst_aid,
                             dst.connection_info, 'm-c'))
        # Returned: the source is released.
        self.assertNotIn(os.path.realpath(src.path), fl.qemu_open_paths(
            self.lv.domain(uuid).name()))
        self.assertEqual(frozen, src.read())
        os.unlink(src.file)
        w.wait_for(3)
        self.assertEqual(('complete', None),
                         self.conductor.wait_report(self, 'm-c'))
        self.finish_writes(w, uuid, target)           # after
        self.assert_data(dst, model)
        self.assert_on(uuid, target, dst)
        self.assert_clean()
        self.assertEqual([], self.migration_records())
        self.assertGreater(w.phases['frozen'], 0)
        # Repeating the complete is harmless and reported again.
        self.api.volume_migration_complete(self.ctxt, HOST, uuid, aid,
                                           dst_aid, dst.connection_info,
                                           'm-c')
        self.assertTrue(self.conductor.wait_for(
            lambda: len(self.conductor.reports('m-c')) == 2))
        self.assertEqual([('complete', None)] * 2,
                         self.conductor.reports('m-c'))
        self.api.detach_volume(self.ctxt, HOST, uuid, dst_aid)
        self.assertEqual([], self.live_chain(uuid, target))

    def test_start_then_cancel(self):
        uuid = self.lv.create_domain()
        aid, target, src, dst, model, w = self.writing_disk(
            uuid, 'block', 'file', seed=22)
        self.api.volume_migration_start(self.ctxt, HOST, uuid, aid)
        w.wait_for(3)
        frozen = src.read()
        w.wait_for(5)
        self.assertEqual(frozen, src.read())
        self.api.volume_migration_cancel(self.ctxt, HOST, uuid, aid, 'm-x')
        w.wait_for(3)
        self.assertEqual(('cancel', None),
                         self.conductor.wait_report(self, 'm-x'))
        self.finish_writes(w, uuid, target)
        self.assert_data(src, model)
        self.assert_on(uuid, target, src)
        self.assert_clean()
        self.assertGreater(w.phases['frozen'], 0)
        # A later complete fails; the disk stays the source's.
        self.assertRaises(exception.Conflict,
                          self.api.volume_migration_complete, self.ctxt,
                          HOST, uuid, aid, 'dst-1', dst.connection_info,
                          'm-x')
        self.assert_on(uuid, target, src)
        self.assertEqual([], self.migration_records())
        self.assertEqual([('cancel', None)], self.conductor.reports('m-x'))
