"""Helpers for end-to-end migration tests through the real API."""

import os
import subprocess

from migrator_api.common import states
from migrator_api.db import api as db_api
from migrator_testing import hosts
from tests import base
from tests.functional import fixtures as sysfix

MiB = 1024 * 1024


class FlowTestCase(base.TestCase):

    BACKENDS = None
    INTERVAL = 1
    BPS_LIMIT = 0

    def setUp(self):
        super().setUp()
        self.system = self.useFixture(sysfix.System(
            self, backends=self.BACKENDS, interval=self.INTERVAL,
            bps_limit=self.BPS_LIMIT))
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
