"""Migrations involving block backends made of real loop devices."""

import os

from tests.functional.flows import base

MiB = base.MiB
DEVICE_SIZE = 24 * MiB


class TestBlockBackends(base.FlowTestCase):

    def setUp(self):
        # Two pools of two loop devices each, plus a file backend.
        self.devices = None
        super().setUp()

    @property
    def BACKENDS(self):
        if self.devices is None:
            self.devices = base.make_loop_devices(self, 4, DEVICE_SIZE)
        return {'blk1': {'backend_type': 'block',
                         'block_devices': self.devices[:2]},
                'blk2': {'backend_type': 'block',
                         'block_devices': self.devices[2:]},
                'file1': {'backend_type': 'file'}}

    def _garbage(self, device):
        with open(device, 'r+b') as f:
            f.write(b'\xee' * DEVICE_SIZE)
            os.fsync(f.fileno())

    def _roundtrip(self, src_backend, dst_backend, size, holes=()):
        vol = self.create_volume(size, src_backend)
        src = self.path_of(vol)
        if src.startswith('/dev/'):
            with open(src, 'r+b') as f:    # holes of a block source: zeroes
                f.write(b'\0' * size)
        expected = self.write_pattern(src, size, seed=11, holes=holes)
        # Whatever the destination pool holds before must not survive.
        for dev in self.devices:
            if dev != src and not self._in_use(dev):
                self._garbage(dev)
        final, _ = self.wait_migration(
            self.migrate(vol['id'], dst_backend)['id'])
        self.assertEqual('success', final['status'], final)
        after = self.get_volume(vol['id'])
        self.assertEqual(dst_backend, after['backend'])
        self.assert_same_bytes(expected, self.path_of(after))
        self.assert_no_hidden_volumes()
        return vol, src, after

    def _in_use(self, dev):
        return any(self.path_of(v) == dev for v in
                   self.app.get('/v1/volumes').json['volumes'])

    def test_block_to_block_with_dd(self):
        _, src, _ = self._roundtrip('blk1', 'blk2', 16 * MiB + 4096)
        # The freed source device was zeroed for the next owner.
        with open(src, 'rb') as f:
            self.assertEqual(b'\0' * DEVICE_SIZE, f.read())

    def test_file_to_block_writes_zeroes_over_stale_data(self):
        self._roundtrip('file1', 'blk1', 20 * MiB,
                        holes=[(0, 2 * MiB), (8 * MiB, 4 * MiB),
                               (18 * MiB, 2 * MiB)])

    def test_block_to_file(self):
        _, _, after = self._roundtrip('blk2', 'file1', 12 * MiB)
        self.assertTrue(self.path_of(after).startswith(self.state_path))

    def test_destination_too_small_fails_cleanly(self):
        vol = self.create_volume(30 * MiB, 'file1')
        expected = self.write_pattern(self.path_of(vol), 30 * MiB, seed=12)
        final, _ = self.wait_migration(
            self.migrate(vol['id'], 'blk1', force=True)['id'])
        self.assertEqual('error', final['status'], final)
        self.assertIn('blk1', final['error'])
        after = self.get_volume(vol['id'])
        self.assertEqual(('file1', 'available', 'error'),
                         (after['backend'], after['status'],
                          after['migration_status']))
        self.assert_same_bytes(expected, self.path_of(after))
        self.assert_no_hidden_volumes()
