"""Regression: a cancel could overtake its copy.

The conductor casts copy_volume, then a cancel rolls the migration back:
cancel_copy finds no copy on the worker yet (the cast is still on its
way, or another executor thread is dispatching it), the destination is
deleted and its block device freed -- and then the late copy_volume
started writing the source onto a device that may hold another volume by
then.  A worker now remembers a cancel that came first and never starts
that copy."""

import os

from migrator_api.common import context
from migrator_api.common import rpc
from migrator_api.common import service
from migrator_api.rpcapi import volume as volume_rpcapi
from migrator_volume import manager
from tests.unit.volume import base
from tests.unit.volume import test_manager

MiB = base.MiB
HOST = test_manager.HOST


class TestCopyCastAfterCancel(base.VolumeTestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(base.MessagingFixture(self.conf))
        self.dev = self.loop_device(4 * MiB, fill=b'other volume')
        self.backend('files', file_path=os.path.join(self.tmp, 'files'))
        self.backend('pool', backend_type='block', block_devices=[self.dev])
        self.flags(group='volume', enabled_backends=['files', 'pool'])
        self.conductor = test_manager.StubConductor()
        server = rpc.get_server(rpc.CONDUCTOR_TOPIC, 'conductor',
                                [self.conductor])
        server.start()
        self.addCleanup(server.wait)
        self.addCleanup(server.stop)
        self.manager = manager.VolumeManager(HOST, self.conf)
        svc = service.Service(rpc.VOLUME_TOPIC, HOST, self.manager)
        svc.start()
        self.addCleanup(svc.stop)
        self.api = volume_rpcapi.VolumeAPI(timeout=60)
        self.ctxt = context.get_admin_context()

    def test_late_copy_never_writes_the_freed_destination(self):
        src = self.api.create_volume(self.ctxt, HOST, 'files', 'v1', 4 * MiB)
        self.write_data(src['data']['path'], [(0, 4 * MiB)])
        dst = self.api.create_volume(self.ctxt, HOST, 'pool', 'tmp-v1',
                                     4 * MiB)
        # The rollback: cancel (no copy known yet), delete the destination;
        # the device now holds another volume's data.
        self.assertFalse(self.api.cancel_copy(self.ctxt, HOST, 'm1'))
        self.api.delete_volume(self.ctxt, HOST, 'pool', 'tmp-v1', dst)
        other = self.api.create_volume(self.ctxt, HOST, 'pool', 'v2',
                                       4 * MiB)
        self.assertEqual(dst['data']['device_path'],
                         other['data']['device_path'])
        with open(self.dev, 'r+b') as f:
            f.write(b'v2 data ' * (MiB // 8))
            os.fsync(f.fileno())
        with open(self.dev, 'rb') as f:
            before = f.read()
        # The late cast.
        self.manager.copy_volume(self.ctxt, 'm1', 'v1', src, 'pool', dst,
                                 4 * MiB)
        self.assertIsNone(self.manager._jobs.get('m1'))
        with open(self.dev, 'rb') as f:
            self.assertEqual(before, f.read())
        self.assertNotIn('m1', self.conductor.finished)

    def test_a_copy_cancelled_after_it_started_is_unaffected(self):
        src = self.api.create_volume(self.ctxt, HOST, 'files', 'v1', 4 * MiB)
        dst = self.api.create_volume(self.ctxt, HOST, 'pool', 'tmp-v1',
                                     4 * MiB)
        self.manager.copy_volume(self.ctxt, 'm2', 'v1', src, 'pool', dst,
                                 4 * MiB)
        self.assertTrue(self.conductor.wait_for(
            lambda: 'm2' in self.conductor.finished))
        self.assertFalse(self.api.cancel_copy(self.ctxt, HOST, 'm2'))
        self.assertIsNone(self.conductor.finished['m2'][2])
