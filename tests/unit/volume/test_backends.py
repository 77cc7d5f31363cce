import json
import os

from migrator_api.common import exception
from migrator_volume import backends
from migrator_volume.backends import block
from migrator_volume.backends import file
from migrator_volume import fsutils
from tests.unit.volume import base

MiB = base.MiB


class FileBackendTestCase(base.VolumeTestCase):

    def setUp(self):
        super().setUp()
        self.backend('f1', backend_type='file',
                     file_path=os.path.join(self.tmp, 'f1'))
        self.flags(group='volume', enabled_backends=['f1'])
        self.driver = backends.load_backends(self.conf)['f1']

    def test_create_is_sparse_and_reads_zeroes(self):
        loc = self.driver.create_volume('v1', 10 * MiB + 3)
        path = loc['data']['path']
        self.assertEqual({'driver_volume_type': 'file',
                          'data': {'path': os.path.join(self.tmp, 'f1',
                                                        'volume-v1')}}, loc)
        self.assertEqual(10 * MiB + 3, os.path.getsize(path))
        self.assertEqual(0, self.allocated(path))
        self.assertEqual(path, self.driver.local_path(loc))

    def test_create_again_same_size_returns_location(self):
        loc = self.driver.create_volume('v1', MiB)
        self.assertEqual(loc, self.driver.create_volume('v1', MiB))
        self.assertRaises(exception.Conflict,
                          self.driver.create_volume, 'v1', 2 * MiB)

    def test_delete_is_idempotent(self):
        loc = self.driver.create_volume('v1', MiB)
        self.driver.delete_volume('v1', loc)
        self.assertFalse(os.path.exists(loc['data']['path']))
        self.driver.delete_volume('v1', loc)
        self.assertRaises(exception.VolumeNotFound,
                          self.driver.local_path, loc)

    def test_bad_sizes(self):
        for size in (0, -1, 1.5, True, '10', None):
            self.assertRaises(exception.InvalidInput,
                              self.driver.create_volume, 'v1', size)

    def test_bad_volume_ids(self):
        for volume_id in ('../x', 'a/b', '', '.hidden', None, 'x' * 300):
            self.assertRaises(exception.InvalidInput,
                              self.driver.create_volume, volume_id, MiB)

    def test_locations_outside_the_backend(self):
        inside = self.driver.create_volume('v1', MiB)['data']['path']
        os.symlink('/etc/passwd', os.path.join(self.tmp, 'f1', 'volume-x'))
        for loc in ({'driver_volume_type': 'file',
                     'data': {'path': '/etc/passwd'}},
                    {'driver_volume_type': 'file',
                     'data': {'path': inside + '/../../f1/volume-v1'}},
                    {'driver_volume_type': 'file',
                     'data': {'path': os.path.join(self.tmp, 'f1',
                                                   'volume-x')}},
                    {'driver_volume_type': 'file',
                     'data': {'path': os.path.join(self.tmp, 'f1', 'other')}},
                    {'driver_volume_type': 'block',
                     'data': {'path': inside}},
                    {'driver_volume_type': 'file', 'data': {}},
                    inside, None):
            self.assertRaises(exception.InvalidInput,
                              self.driver.local_path, loc)
            self.assertFalse(self.driver.owns(loc))
        self.assertRaises(exception.InvalidInput, self.driver.delete_volume,
                          'v2', {'driver_volume_type': 'file',
                                 'data': {'path': inside}})

    def test_stats(self):
        stats = self.driver.get_stats()
        self.assertEqual('f1', stats['name'])
        self.assertEqual('file', stats['backend_type'])
        self.assertEqual({'migration_progress_report': True, 'sparse': True,
                          'reads_zeroes': True}, stats['capabilities'])
        self.assertGreater(stats['total_capacity_bytes'], 0)
        self.assertLessEqual(stats['free_capacity_bytes'],
                             stats['total_capacity_bytes'])

    def test_default_directory_under_state_path(self):
        self.backend('f2', backend_type='file')
        driver = file.FileDriver('f2', self.conf['f2'], self.state_path)
        driver.do_setup()
        self.assertEqual(os.path.join(self.state_path, 'backends', 'f2'),
                         driver.directory)
        self.assertTrue(os.path.isdir(driver.directory))


class BlockBackendTestCase(base.VolumeTestCase):

    def setUp(self):
        super().setUp()
        self.small = self.loop_device(4 * MiB)
        self.big = self.loop_device(8 * MiB)
        self.backend('b1', backend_type='block',
                     block_devices=[self.big, self.small])
        self.flags(group='volume', enabled_backends=['b1'])
        self.driver = backends.load_backends(self.conf)['b1']

    def _state(self):
        with open(self.driver.state_file) as f:
            return json.load(f)

    def test_best_fit_and_state_file(self):
        self.assertEqual(os.path.join(self.state_path, 'b1-devices.json'),
                         self.driver.state_file)
        with open(self.small, 'r+b') as f:
            f.write(b'\xee' * fsutils.device_size(self.small))
        loc = self.driver.create_volume('v1', 3 * MiB)
        small_size = fsutils.device_size(self.small)
        # The volume is the whole device: its real size is reported and
        # what lies beyond the requested size reads as zeroes.
        self.assertEqual({'driver_volume_type': 'block',
                          'data': {'device_path': self.small,
                                   'size': small_size}}, loc)
        with open(self.small, 'rb') as f:
            f.seek(3 * MiB)
            self.assertEqual(bytes(small_size - 3 * MiB), f.read())
        self.assertEqual({'volume_id': 'v1', 'size': 3 * MiB},
                         self._state()['devices'][self.small])
        self.assertEqual(self.small, self.driver.local_path(loc))
        loc2 = self.driver.create_volume('v2', 3 * MiB)
        self.assertEqual(self.big, loc2['data']['device_path'])
        stats = self.driver.get_stats()
        self.assertEqual(12 * MiB, stats['total_capacity_bytes'])
        self.assertEqual(0, stats['free_capacity_bytes'])
        self.assertEqual({'migration_progress_report': True, 'sparse': False,
                          'reads_zeroes': False}, stats['capabilities'])

    def test_allocations_survive_a_restart(self):
        loc = self.driver.create_volume('v1', MiB)
        driver = block.BlockDriver('b1', self.conf['b1'], self.state_path)
        driver.do_setup()
        self.assertEqual(loc, driver.create_volume('v1', MiB))
        loc2 = driver.create_volume('v2', MiB)
        self.assertEqual(self.big, loc2['data']['device_path'])

    def test_too_big_and_pool_full(self):
        e = self.assertRaises(exception.InsufficientCapacity,
                              self.driver.create_volume, 'v1', 8 * MiB + 1)
        self.assertIn('largest free device: %d' % (8 * MiB), str(e))
        self.driver.create_volume('v1', MiB)
        self.driver.create_volume('v2', MiB)
        self.assertRaises(exception.InsufficientCapacity,
                          self.driver.create_volume, 'v3', MiB)
        for size in (0, -5):
            self.assertRaises(exception.InvalidInput,
                              self.driver.create_volume, 'v4', size)

    def test_delete_frees_and_is_idempotent(self):
        loc = self.driver.create_volume('v1', MiB)
        self.assertRaises(exception.InvalidInput,
                          self.driver.delete_volume, 'other', loc)
        self.driver.delete_volume('v1', loc)
        self.assertEqual({}, self._state()['devices'])
        self.driver.delete_volume('v1', loc)
        self.assertRaises(exception.VolumeNotFound,
                          self.driver.local_path, loc)
        self.assertEqual(12 * MiB,
                         self.driver.get_stats()['free_capacity_bytes'])

    def test_devices_outside_the_pool(self):
        for loc in ({'driver_volume_type': 'block',
                     'data': {'device_path': '/dev/null'}},
                    {'driver_volume_type': 'block',
                     'data': {'device_path': self.small + '/'}},
                    {'driver_volume_type': 'file',
                     'data': {'device_path': self.small}},
                    {'driver_volume_type': 'block', 'data': {'path': 'x'}}):
            self.assertRaises(exception.InvalidInput,
                              self.driver.local_path, loc)
            self.assertRaises(exception.InvalidInput,
                              self.driver.delete_volume, 'v1', loc)

    def test_bad_configuration(self):
        for devices in ([], [self.tmp], [os.path.join(self.tmp, 'nope')],
                        [self.small, self.small]):
            self.flags(group='b1', block_devices=devices)
            driver = block.BlockDriver('b1', self.conf['b1'], self.state_path)
            self.assertRaises(exception.VolumeBackendError, driver.do_setup)


class LoadBackendsTestCase(base.VolumeTestCase):

    def test_unknown_backend(self):
        self.assertRaises(exception.BackendNotFound,
                          backends.get_backend, {}, 'nope')

    def test_find_owner(self):
        self.backend('f1', file_path=os.path.join(self.tmp, 'a'))
        self.backend('f2', file_path=os.path.join(self.tmp, 'b'))
        self.flags(group='volume', enabled_backends=['f1', 'f2'])
        loaded = backends.load_backends(self.conf)
        loc = loaded['f2'].create_volume('v', MiB)
        self.assertIs(loaded['f2'], backends.find_owner(loaded, loc))
        self.assertRaises(exception.InvalidInput, backends.find_owner, loaded,
                          {'driver_volume_type': 'file',
                           'data': {'path': '/etc/passwd'}})
