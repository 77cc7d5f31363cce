"""The volume worker over the real oslo.messaging fake transport, with a
stub conductor endpoint catching the worker's reports."""

import os
import threading
import time

import oslo_messaging as messaging

from migrator_api.common import context
from migrator_api.common import exception
from migrator_api.common import rpc
from migrator_api.common import service
from migrator_api.rpcapi import volume as volume_rpcapi
from migrator_volume.copy import journal
from migrator_volume import fsutils
from migrator_volume import manager
from tests.unit.volume import base

MiB = base.MiB
HOST = 'volhost'


class StubConductor:
    target = messaging.Target(version='1.0')

    def __init__(self):
        self.states = []
        self.progress = []
        self.finished = {}
        self._cond = threading.Condition()

    def report_state(self, ctxt, host, binary, backends=None):
        with self._cond:
            self.states.append((host, binary, backends))
            self._cond.notify_all()

    def copy_progress(self, ctxt, migration_id, bytes_done, bytes_total):
        self.progress.append((migration_id, bytes_done, bytes_total))

    def copy_finished(self, ctxt, migration_id, bytes_done, bytes_total,
                      error=None):
        with self._cond:
            self.finished[migration_id] = (bytes_done, bytes_total, error)
            self._cond.notify_all()

    def wait_for(self, predicate, timeout=60):
        with self._cond:
            self._cond.wait_for(predicate, timeout)
            return predicate()


class VolumeManagerRPCTestCase(base.VolumeTestCase):

    def setUp(self):
        super().setUp()
        self.messaging = self.useFixture(base.MessagingFixture(self.conf))
        self.dev = self.loop_device(8 * MiB, fill=b'stale!')
        self.backend('files', file_path=os.path.join(self.tmp, 'files'))
        self.backend('pool', backend_type='block', block_devices=[self.dev])
        self.flags(group='volume', enabled_backends=['files', 'pool'],
                   migration_progress_report_interval=1)
        self.conductor = StubConductor()
        server = rpc.get_server(rpc.CONDUCTOR_TOPIC, 'conductor', [
            self.conductor])
        server.start()
        self.addCleanup(server.wait)
        self.addCleanup(server.stop)
        self.manager = manager.VolumeManager(HOST, self.conf)
        self.service = service.Service(rpc.VOLUME_TOPIC, HOST, self.manager,
                                       report_interval=1)
        self.service.start()
        self.addCleanup(self.service.stop)
        self.api = volume_rpcapi.VolumeAPI(timeout=60)
        self.ctxt = context.get_admin_context()

    def test_heartbeat_reports_backends(self):
        self.assertTrue(self.conductor.wait_for(lambda: self.conductor.states))
        host, binary, stats = self.conductor.states[0]
        self.assertEqual((HOST, 'migrator-volume'), (host, binary))
        self.assertEqual(['files', 'pool'], [s['name'] for s in stats])
        self.assertEqual(8 * MiB, stats[1]['free_capacity_bytes'])
        self.assertIs(False, stats[1]['capabilities']['reads_zeroes'])

    def test_create_copy_status_delete(self):
        size = 5 * MiB + 512
        src = self.api.create_volume(self.ctxt, HOST, 'files', 'v1', size)
        self.write_data(src['data']['path'], [(MiB, 2 * MiB)])
        dst = self.api.create_volume(self.ctxt, HOST, 'pool', 'tmp-v1', size)
        self.assertEqual({'driver_volume_type': 'block',
                          'data': {'device_path': self.dev,
                                   'size': fsutils.device_size(self.dev)}},
                         dst)
        self.assertIsNone(self.api.get_copy_status(self.ctxt, HOST, 'm1'))

        self.flags(group='volume', volume_copy_bps_limit=2 * MiB)
        self.api.copy_volume(self.ctxt, HOST, 'm1', 'v1', src, 'pool', dst,
                             size)
        self.assertTrue(self.conductor.wait_for(
            lambda: 'm1' in self.conductor.finished))
        self.assertEqual((size, size, None), self.conductor.finished['m1'])
        self.assertEqual({'state': 'done', 'bytes_done': size,
                          'bytes_total': size, 'error': None},
                         self.api.get_copy_status(self.ctxt, HOST, 'm1'))
        self.assertSameData(src['data']['path'], self.dev, size)
        self.assertTrue(self.conductor.progress)
        events = [e for e, _p, _h in self.messaging.notifications()]
        self.assertEqual(['volume.migration.start', 'volume.migration.end'],
                         [events[0], events[-1]])

        self.assertFalse(self.api.cancel_copy(self.ctxt, HOST, 'm1'))
        self.api.delete_volume(self.ctxt, HOST, 'pool', 'tmp-v1', dst)
        self.api.delete_volume(self.ctxt, HOST, 'pool', 'tmp-v1', dst)
        self.api.delete_volume(self.ctxt, HOST, 'files', 'v1', src)
        self.assertFalse(os.path.exists(src['data']['path']))

    def test_cancel_copy(self):
        size = 8 * MiB
        src = self.api.create_volume(self.ctxt, HOST, 'files', 'v1', size)
        self.write_data(src['data']['path'], [(0, size)])
        dst = self.api.create_volume(self.ctxt, HOST, 'pool', 'tmp-v1', size)
        self.flags(group='volume', volume_copy_bps_limit=MiB)
        self.api.copy_volume(self.ctxt, HOST, 'm2', 'v1', src, 'pool', dst,
                             size)
        status = self.api.get_copy_status(self.ctxt, HOST, 'm2')
        while status['bytes_done'] == 0 and status['state'] == 'running':
            time.sleep(0.05)
            status = self.api.get_copy_status(self.ctxt, HOST, 'm2')
        self.assertEqual('running', status['state'])
        self.assertRaises(exception.Conflict, self.api.delete_volume,
                          self.ctxt, HOST, 'pool', 'tmp-v1', dst)

        self.assertTrue(self.api.cancel_copy(self.ctxt, HOST, 'm2'))
        status = self.api.get_copy_status(self.ctxt, HOST, 'm2')
        self.assertEqual('cancelled', status['state'])
        self.assertLess(status['bytes_done'], size)
        self.assertTrue(self.conductor.wait_for(
            lambda: 'm2' in self.conductor.finished))
        self.assertIn('cancelled', self.conductor.finished['m2'][2])
        self.api.delete_volume(self.ctxt, HOST, 'pool', 'tmp-v1', dst)

    def test_bad_input_over_rpc(self):
        self.assertRaises(exception.BackendNotFound, self.api.create_volume,
                          self.ctxt, HOST, 'nope', 'v1', MiB)
        for size in (0, -1):
            self.assertRaises(exception.InvalidInput, self.api.create_volume,
                              self.ctxt, HOST, 'files', 'v1', size)
        self.assertRaises(exception.InsufficientCapacity,
                          self.api.create_volume, self.ctxt, HOST, 'pool',
                          'v1', 8 * MiB + 1)
        outside = {'driver_volume_type': 'file',
                   'data': {'path': '/etc/passwd'}}
        self.assertRaises(exception.InvalidInput, self.api.delete_volume,
                          self.ctxt, HOST, 'files', 'passwd', outside)
        dst = self.api.create_volume(self.ctxt, HOST, 'pool', 'd', MiB)
        self.api.copy_volume(self.ctxt, HOST, 'm3', 'v1', outside, 'pool',
                             dst, MiB)
        self.assertTrue(self.conductor.wait_for(
            lambda: 'm3' in self.conductor.finished))
        self.assertIn('belongs to no backend',
                      self.conductor.finished['m3'][2])
        self.assertEqual('error',
                         self.api.get_copy_status(self.ctxt, HOST,
                                                  'm3')['state'])

    def test_backend_stats_follow_create_and_delete(self):
        free = lambda: self.api.get_backend_stats(  # noqa: E731
            self.ctxt, HOST, 'pool')['free_capacity_bytes']
        self.assertEqual(8 * MiB, free())
        dst = self.api.create_volume(self.ctxt, HOST, 'pool', 'v1', MiB)
        self.assertEqual(0, free())
        self.api.delete_volume(self.ctxt, HOST, 'pool', 'v1', dst)
        self.assertEqual(8 * MiB, free())
        self.assertRaises(exception.BackendNotFound,
                          self.api.get_backend_stats, self.ctxt, HOST, 'nope')

    def test_heartbeat_leaves_out_a_backend_being_changed(self):
        with self.manager._changing_capacity('pool'):
            self.manager.report_state()
        self.assertTrue(self.conductor.wait_for(
            lambda: any([s['name'] for s in b] == ['files']
                        for _h, _b, b in self.conductor.states)))
        self.manager.report_state()
        self.assertTrue(self.conductor.wait_for(
            lambda: [s['name'] for s in self.conductor.states[-1][2]]
            == ['files', 'pool']))

    def test_lost_copies_are_reported_at_start(self):
        copies = journal.CopyJournal(self.conf.state_path)
        running = copies.new_entry('m-lost', 'v1', {}, 'pool', {}, 8 * MiB)
        running['bytes_done'] = 3 * MiB
        ended = copies.new_entry('m-ended', 'v2', {}, 'pool', {}, MiB)
        ended.update(state='done', bytes_done=MiB)
        for entry in (running, ended):
            copies.save(entry)
        restarted = manager.VolumeManager(HOST, self.conf)
        restarted.init_host()
        self.assertTrue(self.conductor.wait_for(
            lambda: len(self.conductor.finished) == 2))
        # m-lost cannot resume: its locations are no volumes.
        lost = manager.INTERRUPTED + '; it cannot resume: ' + (
            'Invalid input: not a location of backend pool: unsupported '
            'driver_volume_type None (supported: block)')
        self.assertEqual({'m-lost': (3 * MiB, 8 * MiB, lost),
                          'm-ended': (MiB, MiB, None)},
                         self.conductor.finished)
        self.assertEqual([], copies.entries())
        self.assertEqual({'state': 'error', 'bytes_done': 3 * MiB,
                          'bytes_total': 8 * MiB, 'error': lost},
                         restarted.get_copy_status(self.ctxt, 'm-lost'))
        self.assertEqual('done', restarted.get_copy_status(
            self.ctxt, 'm-ended')['state'])
        self.assertIsNone(restarted.get_copy_status(self.ctxt, 'm-other'))


class ResumingConductor(StubConductor):
    """A conductor of RPC 1.2: hears the copies that can resume."""
    target = messaging.Target(version='1.2')

    def __init__(self):
        super().__init__()
        self.interrupted = {}

    def copy_interrupted(self, ctxt, migration_id, host, resume_from,
                         bytes_total):
        with self._cond:
            self.interrupted[migration_id] = (host, resume_from, bytes_total)
            self._cond.notify_all()


class VolumeManagerResumeTestCase(VolumeManagerRPCTestCase):
    """A copy left running by a previous run of the worker resumes from
    its watermark when the conductor casts it again."""

    def setUp(self):
        super().setUp()
        self.conductor.__class__ = ResumingConductor
        self.conductor.interrupted = {}
        self.copies = journal.CopyJournal(self.conf.state_path)

    def _left_running(self, size, watermark, migration_id='m-res'):
        src = self.api.create_volume(self.ctxt, HOST, 'files', 'v1', size)
        self.write_data(src['data']['path'], [(0, size)], seed=9)
        dst = self.api.create_volume(self.ctxt, HOST, 'files', 'v1-dst',
                                     size)
        # What the previous run wrote: everything below the watermark,
        # and some past it.
        with open(src['data']['path'], 'rb') as f, \
                open(dst['data']['path'], 'r+b') as g:
            g.write(f.read(watermark + MiB))
        entry = self.copies.new_entry(migration_id, 'v1', src, 'files', dst,
                                      size)
        entry.update(watermark=watermark, reserved=watermark + 2 * MiB,
                     bytes_done=watermark + MiB, src_bytes=size)
        self.copies.save(entry)
        return src, dst

    def _restart(self):
        restarted = manager.VolumeManager(HOST, self.conf)
        restarted.init_host()
        return restarted

    def test_resumes_from_the_watermark(self):
        size = 8 * MiB
        src, dst = self._left_running(size, 3 * MiB)
        restarted = self._restart()
        self.assertTrue(self.conductor.wait_for(
            lambda: 'm-res' in self.conductor.interrupted))
        self.assertEqual((HOST, 3 * MiB, size),
                         self.conductor.interrupted['m-res'])
        self.assertEqual({}, self.conductor.finished)
        # Told running while the conductor answers.
        self.assertEqual('running',
                         restarted.get_copy_status(self.ctxt,
                                                   'm-res')['state'])
        # Asked past its watermark: never more than it recorded.
        restarted.copy_volume(self.ctxt, 'm-res', 'v1', src, 'files', dst,
                              size, resume_from=4 * MiB)
        self.assertTrue(self.conductor.wait_for(
            lambda: 'm-res' in self.conductor.finished))
        self.assertEqual((size, size, None), self.conductor.finished['m-res'])
        self.assertSameData(src['data']['path'], dst['data']['path'], size)
        job = restarted._jobs['m-res']
        self.assertEqual([3 * MiB], job.resumed_from)
        self.assertLessEqual(job.recopied, 2 * MiB)
        self.assertEqual([], self.copies.entries())

    def test_a_copy_that_cannot_resume_is_reported_interrupted(self):
        size = 8 * MiB
        src, dst = self._left_running(size, 3 * MiB)
        os.unlink(dst['data']['path'])
        self._restart()
        self.assertTrue(self.conductor.wait_for(
            lambda: 'm-res' in self.conductor.finished))
        _done, _total, error = self.conductor.finished['m-res']
        self.assertTrue(error.startswith(manager.INTERRUPTED), error)
        self.assertIn('cannot resume: No volume at', error)
        self.assertEqual({}, self.conductor.interrupted)
        self.assertEqual([], self.copies.entries())

    def test_a_changed_source_does_not_resume(self):
        size = 8 * MiB
        src, _dst = self._left_running(size, 3 * MiB)
        with open(src['data']['path'], 'ab') as f:
            f.write(b'more')
        self._restart()
        self.assertTrue(self.conductor.wait_for(
            lambda: 'm-res' in self.conductor.finished))
        self.assertIn('changed size', self.conductor.finished['m-res'][2])

    def test_a_cancel_forgets_a_copy_waiting_to_resume(self):
        self._left_running(8 * MiB, 3 * MiB)
        restarted = self._restart()
        self.assertTrue(self.conductor.wait_for(
            lambda: 'm-res' in self.conductor.interrupted))
        self.assertFalse(restarted.cancel_copy(self.ctxt, 'm-res'))
        self.assertEqual([], self.copies.entries())
        self.assertIsNone(restarted.get_copy_status(self.ctxt, 'm-res'))


class OldWorker:
    """A volume worker that speaks RPC 1.0 only."""
    target = messaging.Target(version='1.0')

    def create_volume(self, ctxt, backend, volume_id, size):
        return {'driver_volume_type': 'file', 'data': {'path': '/x'}}


class RPCVersionTestCase(base.VolumeTestCase):

    def test_new_client_and_a_1_0_worker(self):
        self.useFixture(base.MessagingFixture(self.conf))
        server = rpc.get_server(rpc.VOLUME_TOPIC, 'oldhost', [OldWorker()])
        server.start()
        self.addCleanup(server.wait)
        self.addCleanup(server.stop)
        api = volume_rpcapi.VolumeAPI(timeout=10)
        ctxt = context.get_admin_context()
        self.assertEqual('/x', api.create_volume(
            ctxt, 'oldhost', 'files', 'v1', MiB)['data']['path'])
        self.assertRaises(messaging.UnsupportedVersion,
                          api.get_backend_stats, ctxt, 'oldhost', 'files')
