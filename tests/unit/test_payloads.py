"""The shapes of the RPC contract and their helpers."""

from migrator_api.common import exception
from migrator_api.rpcapi import payloads
from tests import base


class TestPercentage(base.TestCase):

    def test_one_rounding_everywhere(self):
        self.assertEqual(0.0, payloads.percentage(0, 10))
        self.assertEqual(33.3, payloads.percentage(1, 3))
        self.assertEqual(66.7, payloads.percentage(2, 3))
        self.assertEqual(100.0, payloads.percentage(12, 10))
        self.assertEqual(0.0, payloads.percentage(-1, 10))
        self.assertEqual(0.0, payloads.percentage(0, 0))


class TestLocations(base.TestCase):

    def test_paths_of_both_kinds(self):
        self.assertEqual(('file', '/srv/v'), payloads.location_path(
            payloads.file_location('/srv/v')))
        loc = payloads.block_location('/dev/loop3', 1024)
        self.assertEqual(('block', '/dev/loop3'),
                         payloads.location_path(loc))
        self.assertEqual(1024, payloads.location_size(loc, 512))
        self.assertEqual(512, payloads.location_size(
            payloads.file_location('/srv/v'), 512))

    def test_bad_locations_are_invalid_input(self):
        for loc, reason in [
                ('/srv/v', 'must be a connection description'),
                ({'driver_volume_type': 'nfs', 'data': {}}, "'nfs'"),
                ({'driver_volume_type': 'file', 'data': {'path': 'rel'}},
                 'absolute data.path'),
                ({'driver_volume_type': 'block', 'data': None},
                 'absolute data.device_path')]:
            e = self.assertRaises(exception.InvalidInput,
                                  payloads.location_path, loc)
            self.assertIn(reason, str(e))

    def test_kinds_can_be_narrowed(self):
        self.assertRaises(exception.InvalidInput, payloads.location_path,
                          payloads.file_location('/srv/v'), ('block',))


class TestNbdLocations(base.TestCase):

    def test_uri(self):
        loc = payloads.nbd_location('10.77.0.2', 10809, 'volume-1', 4096)
        self.assertTrue(payloads.is_nbd(loc))
        self.assertEqual('nbd://10.77.0.2:10809/volume-1',
                         payloads.nbd_uri(loc))
        self.assertEqual(4096, payloads.location_size(loc, 512))

    def test_an_nbd_location_has_no_local_path(self):
        loc = payloads.nbd_location('10.77.0.2', 10809, 'volume-1', 4096)
        self.assertRaises(exception.InvalidInput, payloads.location_path,
                          loc)
        self.assertRaises(exception.InvalidInput, payloads.nbd_uri,
                          payloads.file_location('/srv/v'))
