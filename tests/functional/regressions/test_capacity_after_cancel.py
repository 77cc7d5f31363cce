"""Regression test: capacity changes are visible to admission at once.

The backend rows' capacity was written only by the volume workers'
heartbeats.  After a cancelled migration onto a one-device ``block``
backend the device was free and zeroed, yet new migrations to that
backend were refused ("0 bytes free") until the next heartbeat; and a
device just taken still showed as free, so a request that could not
fit was accepted and failed later.

The worker's heartbeat here runs once, at start; the test sends one
itself where the issue's heartbeat came, so that only what the fix
records can change the capacity seen by admission.
"""

from migrator_api.common import states
from migrator_api.db import api as db_api
from tests.functional.flows import base

MiB = base.MiB
DEVICE_SIZE = 24 * MiB


class TestCapacityAfterCancel(base.FlowTestCase):

    BPS_LIMIT = 4 * MiB
    HEARTBEAT = 3600

    def setUp(self):
        self.devices = None
        super().setUp()
        # One heartbeat at start: the worker must still count as up.
        self.flags(service_down_time=3600, group='conductor')

    @property
    def BACKENDS(self):
        if self.devices is None:
            self.devices = base.make_loop_devices(self, 1, DEVICE_SIZE)
        return {'blk': {'backend_type': 'block',
                        'block_devices': self.devices},
                'file1': {'backend_type': 'file'}}

    def _heartbeat(self):
        """One heartbeat of the worker, recorded."""
        before = db_api.backend_get('blk').updated_at
        self.system.volume.report_state()
        self.system.wait_for(
            lambda: db_api.backend_get('blk').updated_at != before,
            'heartbeat recorded')

    def _device_is_zeroed(self):
        self.assertEqual(b'\0' * DEVICE_SIZE,
                         self.read_all(self.devices[0], DEVICE_SIZE))

    def test_cancelled_migration_frees_the_device_at_once(self):
        size = 16 * MiB
        vol = self.create_volume(size, 'file1')
        src = self.path_of(vol)
        expected = self.write_pattern(src, size, seed=61)
        mig = self.migrate(vol['id'], 'blk')
        self.wait_copy_started(mig['id'])
        self._heartbeat()       # the device is taken by the destination
        self.assertEqual(0, self.free_bytes('blk'))
        self.cancel(mig['id'])
        final, _ = self.wait_migration(mig['id'])
        self.assertEqual('cancelled', final['status'], final)

        # At once, without a heartbeat: free, zeroed, and admitted.
        self.assertEqual(DEVICE_SIZE, self.free_bytes('blk'))
        self._device_is_zeroed()
        self.assert_same_bytes(expected, src)
        self.assert_no_hidden_volumes()
        self.flags(volume_copy_bps_limit=0, group='volume')
        again = self.migrate(vol['id'], 'blk')
        final, _ = self.wait_migration(again['id'])
        self.assertEqual('success', final['status'], final)
        after = self.get_volume(vol['id'])
        self.assertEqual(('blk', DEVICE_SIZE), (after['backend'],
                                                after['size']))
        self.assert_same_bytes(expected + b'\0' * (DEVICE_SIZE - size),
                               self.devices[0])
        self.assertEqual(0, self.free_bytes('blk'))

    def test_taken_device_is_refused_at_once(self):
        first = self.create_volume(16 * MiB, 'file1')
        self.write_pattern(self.path_of(first), 16 * MiB, seed=62)
        mig = self.migrate(first['id'], 'blk')
        self.wait_copy_started(mig['id'])
        # No heartbeat since the destination was created.
        self.assertEqual(0, self.free_bytes('blk'))
        second = self.create_volume(MiB, 'file1')
        resp = self.app.post_json('/v1/migrations', {'migration': {
            'volume_id': second['id'], 'backend': 'blk'}}, status=409)
        self.assertIn('0 bytes free', resp.json['errors'][0]['detail'])
        self.assertEqual([mig['id']], [m.id for m in db_api.migration_get_all(
            {'status': list(states.MIGRATION_RUNNING)})])
        self.cancel(mig['id'])
        final, _ = self.wait_migration(mig['id'])
        self.assertEqual('cancelled', final['status'], final)
        self.assertEqual(DEVICE_SIZE, self.free_bytes('blk'))

    def test_volume_create_and_delete_change_capacity_at_once(self):
        vol = self.create_volume(8 * MiB, 'blk')
        self.assertEqual(0, self.free_bytes('blk'))
        self.app.post_json('/v1/volumes', {'volume': {
            'size': MiB, 'backend': 'blk'}}, status=409)
        expected = self.write_pattern(self.path_of(vol), 8 * MiB, seed=63)
        self.assert_same_bytes(expected, self.devices[0])
        self.app.delete('/v1/volumes/%s' % vol['id'], status=202)
        self.system.wait_for(
            lambda: not db_api.volume_get_all(include_hidden=True),
            'volume deleted')
        self.assertEqual(DEVICE_SIZE, self.free_bytes('blk'))
        self._device_is_zeroed()
