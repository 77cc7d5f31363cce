"""Regression test: a restarted volume worker reports the copies it lost.

Copies lived in the worker's memory only.  When the worker's process
died during a copy, the conductor heard nothing more of it; after the
worker started again the migration stayed ``migrating`` until
``[conductor] copy_report_timeout`` (120 s by default) had passed
without a progress report and the watchdog asked the worker.  A worker
that starts now reports at once each copy it ran and no longer has, and
the conductor acts within seconds: a copy that can resume resumes from
its watermark (the migration succeeds, having copied little twice),
any other is rolled back.

copy_report_timeout is 120 s here, so that the watchdog cannot be what
ends the migration.
"""

import json
import os
import time

from migrator_api.common import states
from migrator_api.db import api as db_api
from tests import base as tests_base
from tests.functional.flows import base

MiB = base.MiB
DEVICE_SIZE = 24 * MiB
INTERRUPTED = 'the volume worker restarted; the copy was interrupted'
#: Well before copy_report_timeout.
PROMPTLY = 30
#: Marks of the watermark every MiB (the bound of what a resume copies
#: twice, with the requests in flight).
MARK_MIB = 1


class TestWorkerRestartReportsLostCopies(base.FlowTestCase):

    BPS_LIMIT = 2 * MiB

    def setUp(self):
        self.devices = None
        super().setUp()
        self.flags(copy_report_timeout=120, group='conductor')
        self.flags(volume_copy_mark_interval=MARK_MIB, group='volume')

    @property
    def BACKENDS(self):
        if self.devices is None:
            self.devices = base.make_loop_devices(self, 2, DEVICE_SIZE)
        return {'file1': {'backend_type': 'file'},
                'file2': {'backend_type': 'file'},
                'blk': {'backend_type': 'block',
                        'block_devices': self.devices[:1]},
                'blk2': {'backend_type': 'block',
                         'block_devices': self.devices[1:]}}

    def _journal(self):
        path = os.path.join(self.state_path, 'volume-copies')
        return sorted(os.listdir(path)) if os.path.isdir(path) else []

    def _entry(self, migration_id):
        with open(os.path.join(self.state_path, 'volume-copies',
                               '%s.json' % migration_id)) as f:
            return json.load(f)

    def _crash_mid_copy(self, dst_backend, size, seed, force=False,
                        holes=()):
        vol = self.create_volume(size, 'file1')
        src = self.path_of(vol)
        expected = self.write_pattern(src, size, seed=seed, holes=holes)
        mig = self.migrate(vol['id'], dst_backend, force=force)
        self.system.wait_for(
            lambda: self._journal() and
            self._entry(mig['id'])['watermark'] >= 2 * MARK_MIB * MiB,
            'a watermark recorded')
        self.system.crash_volume_worker()
        lost = db_api.migration_get(mig['id'])
        self.assertEqual((states.P_COPYING, states.M_MIGRATING),
                         (lost.phase, lost.status))
        self.assertLess(lost.bytes_done, size)
        entry = self._entry(mig['id'])
        self.assertLess(entry['watermark'], size)
        self.assertLessEqual(entry['watermark'], entry['reserved'])
        return vol, mig, src, expected, entry

    def _resumes(self, dst_backend, size, seed, holes=()):
        """Crash mid-copy, start again: the copy resumes, succeeds."""
        vol, mig, src, expected, entry = self._crash_mid_copy(
            dst_backend, size, seed, holes=holes)
        restarted = time.monotonic()
        self.system.start_volume_worker()
        final, _ = self.wait_migration(mig['id'], timeout=PROMPTLY)
        self.assertLess(time.monotonic() - restarted, PROMPTLY)
        self.assertEqual(('success', None), (final['status'],
                                             final['error']), final)
        after = self.get_volume(vol['id'])
        self.assertEqual(dst_backend, after['backend'])
        self.assert_same_bytes(expected, self.path_of(after))
        job = self.system.volume._jobs[mig['id']]
        self.assertEqual([entry['watermark']], job.resumed_from)
        # At most what the crashed run reserved past its watermark: one
        # mark interval plus the requests in flight.
        window = (self.conf.volume.volume_copy_in_flight *
                  self.conf.volume.file_copy_chunk_size)
        self.assertLessEqual(job.recopied,
                             entry['reserved'] - entry['watermark'])
        self.assertLessEqual(job.recopied, MARK_MIB * MiB + 2 * window)
        self.assert_no_hidden_volumes()
        self.system.wait_for(lambda: not self._journal(), 'journal emptied')
        return vol, after, job

    def test_lost_copy_to_a_file_backend_resumes(self):
        holes = [(0, 2 * MiB), (9 * MiB, 3 * MiB), (15 * MiB, MiB)]
        _, after, _ = self._resumes('file2', 16 * MiB, seed=74, holes=holes)
        # Holes stay holes: the resumed copy did not fill them.
        st = os.stat(self.path_of(after))
        self.assertLessEqual(st.st_blocks * 512, 10 * MiB)

    def test_lost_copy_to_a_block_backend_resumes(self):
        self._resumes('blk', 16 * MiB, seed=75)

    def _restart_during_copy(self, dst_backend, size, seed, force=False):
        """Crash mid-copy, make the resume impossible (the destination
        is gone), start again: the migration rolls back."""
        vol, mig, src, expected, _ = self._crash_mid_copy(
            dst_backend, size, seed, force=force)
        dst = db_api.volume_get(
            db_api.migration_get(mig['id']).dest_volume_id,
            include_hidden=True)
        path = self.path_of({'location': dst.location})
        if os.path.isfile(path):
            os.unlink(path)
        else:
            # A block destination cannot vanish: its source changes size.
            with open(src, 'ab') as f:
                f.write(b'x' * 4096)
        restarted = time.monotonic()
        self.system.start_volume_worker()
        final, _ = self.wait_migration(mig['id'], timeout=PROMPTLY)
        self.assertLess(time.monotonic() - restarted, PROMPTLY)
        self.assertEqual('error', final['status'], final)
        self.assertTrue(final['error'].startswith(INTERRUPTED), final)
        self.assertIn('cannot resume', final['error'])
        if not os.path.isfile(path):
            with open(src, 'r+b') as f:
                f.truncate(size)
        after = self.get_volume(vol['id'])
        self.assertEqual(('file1', 'error'),
                         (after['backend'], after['migration_status']))
        self.assertEqual(src, self.path_of(after))
        self.assert_same_bytes(expected, src)
        self.assert_no_hidden_volumes()
        self.system.wait_for(lambda: not self._journal(), 'journal emptied')
        return vol, expected, after

    def test_lost_copy_without_its_destination_rolls_back_at_once(self):
        _, _, after = self._restart_during_copy('file2', 16 * MiB, seed=71,
                                                force=True)
        self.assertEqual('available', after['status'])
        self.assertEqual([], os.listdir(os.path.join(self.state_path,
                                                     'file2')))

    def test_lost_copy_with_a_changed_source_frees_the_device(self):
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

    def test_worker_pinned_below_resumes_rolls_back(self):
        # [upgrade_levels] volume = 1.2: copy_volume cannot carry
        # resume_from, so the conductor rolls back as before.
        self.flags(volume='1.2', group='upgrade_levels')
        size = 16 * MiB
        vol, mig, src, expected, _ = self._crash_mid_copy('file2', size,
                                                          seed=76)
        self.system.start_volume_worker()
        final, _ = self.wait_migration(mig['id'], timeout=PROMPTLY)
        self.assertEqual('error', final['status'], final)
        self.assertIn('cannot resume: the volume worker is pinned',
                      final['error'])
        self.assert_same_bytes(expected, src)
        self.assert_no_hidden_volumes()
        self.system.wait_for(lambda: not self._journal(), 'journal emptied')

    def test_a_cancel_while_the_worker_is_down_rolls_back(self):
        size = 16 * MiB
        vol, mig, src, expected, _ = self._crash_mid_copy('file2', size,
                                                          seed=77)
        self.cancel(mig['id'])
        self.system.start_volume_worker()
        final, _ = self.wait_migration(mig['id'], timeout=PROMPTLY)
        self.assertEqual('cancelled', final['status'], final)
        self.assertEqual('file1', self.get_volume(vol['id'])['backend'])
        self.assert_same_bytes(expected, src)
        self.assertEqual([], os.listdir(os.path.join(self.state_path,
                                                     'file2')))
        self.system.wait_for(lambda: not self._journal(), 'journal emptied')

    def test_a_killed_dd_is_retried_from_the_watermark(self):
        # Block to block: dd.  One of its dd processes killed -9.
        size = 16 * MiB
        vol = self.create_volume(size, 'blk')
        expected = self.write_pattern(self.path_of(vol), size, seed=78)
        mig = self.migrate(vol['id'], 'blk2')
        self.wait_copy_started(mig['id'])
        deadline = time.monotonic() + 60
        while not self._kill_a_dd(mig['id']):
            self.assertLess(time.monotonic(), deadline, 'no dd to kill')
            time.sleep(0.001)
        final, _ = self.wait_migration(mig['id'])
        self.assertEqual(('success', None), (final['status'],
                                             final['error']), final)
        after = self.get_volume(vol['id'])
        self.assertEqual('blk2', after['backend'])
        self.assert_same_bytes(expected, self.path_of(after))
        job = self.system.volume._jobs[mig['id']]
        self.assertEqual(1, job.retries)
        self.assertEqual(1, len(job.resumed_from))

    def _kill_a_dd(self, migration_id):
        """Kill -9 a running dd of the copy (a child of this process)."""
        job = self.system.volume._jobs.get(migration_id)
        return tests_base.kill_a_running_dd(job and job._copier)

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
        self.assertEqual(size, entry['src_bytes'])
        self.assertLessEqual(entry['watermark'], size)
        self.assertEqual([], entry['resumed_from'])
        final, _ = self.wait_migration(mig['id'])
        self.assertEqual('success', final['status'], final)
        self.system.wait_for(lambda: not self._journal(), 'journal emptied')
