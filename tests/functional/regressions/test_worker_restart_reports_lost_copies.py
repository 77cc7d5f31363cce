"""Regression test: a restarted volume worker reports the copies it lost.

Copies lived in the worker's memory only.  When the worker's process
died during a copy, the conductor heard nothing more of it; after the
worker started again the migration stayed ``migrating`` until
``[conductor] copy_report_timeout`` (120 s by default) had passed
without a progress report and the watchdog asked the worker.  A worker
that starts now reports at once each copy it ran and no longer has, and
the conductor rolls those migrations back within seconds.

copy_report_timeout is 120 s here, so that the watchdog cannot be what
ends the migration.
"""

import json
import os
import time

from migrator_api.common import states
from migrator_api.db import api as db_api
from tests.functional.flows import base

MiB = base.MiB
DEVICE_SIZE = 24 * MiB
INTERRUPTED = 'the volume worker restarted; the copy was interrupted'
#: Well before copy_report_timeout.
PROMPTLY = 30


class TestWorkerRestartReportsLostCopies(base.FlowTestCase):

    BPS_LIMIT = 2 * MiB

    def setUp(self):
        self.devices = None
        super().setUp()
        self.flags(copy_report_timeout=120, group='conductor')

    @property
    def BACKENDS(self):
        if self.devices is None:
            self.devices = base.make_loop_devices(self, 1, DEVICE_SIZE)
        return {'file1': {'backend_type': 'file'},
                'file2': {'backend_type': 'file'},
                'blk': {'backend_type': 'block',
                        'block_devices': self.devices}}

    def _journal(self):
        path = os.path.join(self.state_path, 'volume-copies')
        return sorted(os.listdir(path)) if os.path.isdir(path) else []

    def _restart_during_copy(self, dst_backend, size, seed, force=False):
        vol = self.create_volume(size, 'file1')
        src = self.path_of(vol)
        expected = self.write_pattern(src, size, seed=seed)
        mig = self.migrate(vol['id'], dst_backend, force=force)
        self.wait_copy_started(mig['id'])
        self.system.crash_volume_worker()
        lost = db_api.migration_get(mig['id'])
        self.assertEqual((states.P_COPYING, states.M_MIGRATING),
                         (lost.phase, lost.status))
        self.assertLess(lost.bytes_done, size)
        restarted = time.monotonic()
        self.system.start_volume_worker()
        final, _ = self.wait_migration(mig['id'], timeout=PROMPTLY)
        self.assertLess(time.monotonic() - restarted, PROMPTLY)
        self.assertEqual('error', final['status'], final)
        self.assertEqual(INTERRUPTED, final['error'])
        after = self.get_volume(vol['id'])
        self.assertEqual(('file1', 'error'),
                         (after['backend'], after['migration_status']))
        self.assertEqual(src, self.path_of(after))
        self.assert_same_bytes(expected, src)
        self.assert_no_hidden_volumes()
        self.system.wait_for(lambda: not self._journal(), 'journal emptied')
        return vol, expected, after

    def test_lost_copy_to_a_file_backend_rolls_back_at_once(self):
        _, _, after = self._restart_during_copy('file2', 16 * MiB, seed=71,
                                                force=True)
        self.assertEqual('available', after['status'])
        self.assertEqual([], os.listdir(os.path.join(self.state_path,
                                                     'file2')))

    def test_lost_copy_to_a_block_backend_frees_the_device(self):
        vol, expected, _ = self._restart_during_copy('blk', 16 * MiB,
                                                     seed=72)
        self.assertEqual(DEVICE_SIZE, self.free_bytes('blk'))
        self.assertEqual(b'\0' * DEVICE_SIZE,
                         self.read_all(self.devices[0], DEVICE_SIZE))
        # The restarted worker copies again.
        self.flags(volume_copy_bps_limit=0, group='volume')
        final, _ = self.wait_migration(self.migrate(vol['id'], 'blk')['id'])
        self.assertEqual('success', final['status'], final)
        self.assert_same_bytes(expected, self.devices[0])

    def test_journal_holds_what_a_resume_needs(self):
        size = 16 * MiB
        vol = self.create_volume(size, 'file1')
        self.write_pattern(self.path_of(vol), size, seed=73)
        mig = self.migrate(vol['id'], 'file2')
        self.system.wait_for(
            lambda: self.get_migration(mig['id'])['bytes_done'] > 0 and
            self._journal(), 'copy journalled')
        self.assertEqual(['%s.json' % mig['id']], self._journal())
        with open(os.path.join(self.state_path, 'volume-copies',
                               self._journal()[0])) as f:
            entry = json.load(f)
        dst = db_api.volume_get(
            db_api.migration_get(mig['id']).dest_volume_id,
            include_hidden=True)
        self.assertEqual(
            (mig['id'], vol['id'], vol['location'], 'file2', dst.location,
             size),
            (entry['migration_id'], entry['volume_id'],
             entry['src_location'], entry['dst_backend'],
             entry['dst_location'], entry['size']))
        self.assertGreater(entry['bytes_done'], 0)
        self.assertLess(entry['bytes_done'], size)
        final, _ = self.wait_migration(mig['id'])
        self.assertEqual('success', final['status'], final)
        self.system.wait_for(lambda: not self._journal(), 'journal emptied')
