"""Helpers for end-to-end migration tests through the real API."""

import os
import subprocess

import oslo_messaging as messaging

from migrator_api.common import rpc
from migrator_api.common import service
from migrator_api.common import states
from migrator_api.db import api as db_api
from migrator_testing import hosts
from migrator_volume import manager as volume_manager
from tests import base
from tests.functional import fixtures as sysfix

MiB = 1024 * 1024


class _Unreachable:
    """What a dead worker's process sends: nothing, every send fails."""

    def __getattr__(self, name):
        def _fail(*args, **kwargs):
            raise messaging.MessageDeliveryFailure(
                'the process of this volume worker is dead')
        return _fail


class System(sysfix.System):
    """The fixture's system, holding on to the volume worker's service
    so that a test can kill and restart the worker.

    :param heartbeat: seconds between the worker's heartbeats; a test
        that must know when capacity is reported sets it high (one
        heartbeat at start) and calls ``volume.report_state()`` itself.
    """

    def __init__(self, test, heartbeat=1, **kwargs):
        super().__init__(test, **kwargs)
        self.heartbeat = heartbeat
        self.volume_service = None

    def _start(self, svc):
        if svc.topic == rpc.VOLUME_TOPIC:
            svc.report_interval = self.heartbeat
            self.volume_service = svc
        return super()._start(svc)

    def crash_volume_worker(self):
        """The worker's process dies: from now on it reports nothing,
        and its copies stop writing."""
        dead = _Unreachable()
        self.volume._conductor = dead
        for job in list(self.volume._jobs.values()):
            job.reporter = dead
        self.volume_service.stop()

    def start_volume_worker(self):
        """Start a new volume worker on the same host and state_path."""
        self.volume = volume_manager.VolumeManager(host=sysfix.HOST,
                                                   conf=self.test.conf)
        self._start(service.Service(rpc.VOLUME_TOPIC, sysfix.HOST,
                                    self.volume,
                                    report_interval=self.heartbeat))


class FlowTestCase(base.TestCase):

    BACKENDS = None
    INTERVAL = 1
    BPS_LIMIT = 0
    HEARTBEAT = 1

    def setUp(self):
        super().setUp()
        self.system = self.useFixture(System(
            self, backends=self.BACKENDS, interval=self.INTERVAL,
            bps_limit=self.BPS_LIMIT, heartbeat=self.HEARTBEAT))
        self.app = self.system.app

    # API wrappers -------------------------------------------------------

    def create_volume(self, size, backend='file1'):
        resp = self.app.post_json('/v1/volumes', {'volume': {
            'size': size, 'backend': backend}}, status=202)
        volume_id = resp.json['volume']['id']
        self.system.wait_for(
            lambda: self.get_volume(volume_id)['status'] != 'creating',
            'volume %s created' % volume_id)
        volume = self.get_volume(volume_id)
        self.assertEqual('available', volume['status'], volume)
        return volume

    def get_volume(self, volume_id):
        return self.app.get('/v1/volumes/%s' % volume_id).json['volume']

    def get_migration(self, migration_id):
        return self.app.get(
            '/v1/migrations/%s' % migration_id).json['migration']

    def migrate(self, volume_id, backend, force=False):
        resp = self.app.post_json('/v1/migrations', {'migration': {
            'volume_id': volume_id, 'backend': backend, 'force': force}},
            status=202)
        self.assertIn('Your migration request has been received',
                      resp.json['message'])
        return resp.json['migration']

    def cancel(self, migration_id, status=202):
        return self.app.post('/v1/migrations/%s/cancel' % migration_id,
                             status=status).json

    def free_bytes(self, backend):
        return self.app.get(
            '/v1/backends/%s' % backend).json['backend']['free_capacity_bytes']

    def wait_copy_started(self, migration_id):
        self.system.wait_for(
            lambda: self.get_migration(migration_id)['bytes_done'] > 0,
            'copy started', 60, 0.05)

    def wait_migration(self, migration_id, timeout=120):
        """Wait for the end; return (final view, statuses seen)."""
        seen = []

        def _done():
            mig = self.get_migration(migration_id)
            if not seen or seen[-1] != mig['status']:
                seen.append(mig['status'])
            return mig if mig['status'] in states.MIGRATION_FINISHED else None
        return self.system.wait_for(_done, 'migration end', timeout,
                                    interval=0.05), seen

    # Data ---------------------------------------------------------------

    @staticmethod
    def path_of(volume):
        data = volume['location']['data']
        return data.get('path') or data['device_path']

    @staticmethod
    def write_pattern(path, size, seed, holes=()):
        """Write a deterministic pattern over size bytes, except holes.

        holes: (offset, length) ranges left as they are (holes in a
        sparse file).  Returns the expected content.
        """
        expected = bytearray(size)
        block = 64 * 1024
        fd = os.open(path, os.O_WRONLY)
        try:
            for off in range(0, size, block):
                length = min(block, size - off)
                if any(h_off <= off < h_off + h_len for h_off, h_len in holes):
                    continue
                chunk = bytes(((seed + off // 512 + i) * 31) % 251 + 1
                              for i in range(0, length, 64)) * 64
                chunk = chunk[:length]
                os.pwrite(fd, chunk, off)
                expected[off:off + length] = chunk
            os.fsync(fd)
        finally:
            os.close(fd)
        return bytes(expected)

    @staticmethod
    def read_all(path, size):
        if path.startswith('/dev/'):
            # Others (QEMU, dd) wrote around the page cache.
            subprocess.run(['blockdev', '--flushbufs', path], check=True)
        with open(path, 'rb') as f:
            return f.read(size)

    def assert_same_bytes(self, expected, path):
        actual = self.read_all(path, len(expected))
        self.assertEqual(len(expected), len(actual))
        if actual != expected:
            first = next(i for i, (a, b) in enumerate(zip(actual, expected))
                         if a != b)
            self.fail('%s differs from the expected data at byte %d'
                      % (path, first))

    def assert_no_hidden_volumes(self):
        hidden = [v for v in db_api.volume_get_all(include_hidden=True)
                  if v.hidden]
        self.assertEqual([], [(v.id, v.status) for v in hidden])


def make_loop_devices(test, count, size):
    """Real loop devices backed by files in the test's temp dir."""
    devices = []
    for i in range(count):
        backing = os.path.join(test.state_path, 'loop%d.img' % i)
        with open(backing, 'wb') as f:
            f.truncate(size)
        dev = hosts.attach_loop(backing)
        test.addCleanup(hosts.detach_loop, dev, backing)
        devices.append(dev)
    return devices
