"""Available volumes between file backends, end to end through the API."""

import os

from migrator_api.db import api as db_api
from tests.functional.flows import base

MiB = base.MiB


class TestMigrateFileToFile(base.FlowTestCase):

    def test_migrate_keeps_id_and_every_byte(self):
        size = 16 * MiB
        vol = self.create_volume(size, 'file1')
        src = self.path_of(vol)
        expected = self.write_pattern(src, size, seed=1)
        mig = self.migrate(vol['id'], 'file2')
        self.assertEqual('queued', mig['status'])
        self.assertEqual('file1', mig['source_backend'])

        final, _ = self.wait_migration(mig['id'])
        self.assertEqual('success', final['status'], final)
        self.assertEqual('done', final['phase'])
        self.assertEqual(100.0, final['percentage'])
        self.assertEqual(size, final['bytes_done'])
        self.assertEqual(size, final['bytes_total'])
        self.assertIsNotNone(final['finished_at'])
        self.assertIsNone(final['error'])

        after = self.get_volume(vol['id'])
        self.assertEqual('file2', after['backend'])
        self.assertEqual('available', after['status'])
        self.assertEqual('success', after['migration_status'])
        dst = self.path_of(after)
        self.assertTrue(dst.startswith(os.path.join(self.state_path,
                                                    'file2')), dst)
        self.assert_same_bytes(expected, dst)
        self.assertFalse(os.path.exists(src), 'old data left behind')
        self.assert_no_hidden_volumes()
        listed = self.app.get('/v1/volumes').json['volumes']
        self.assertEqual([vol['id']], [v['id'] for v in listed])
        only_success = self.app.get(
            '/v1/volumes?migration_status=success').json['volumes']
        self.assertEqual([vol['id']], [v['id'] for v in only_success])

    def test_sparse_volume_stays_sparse(self):
        size = 64 * MiB
        vol = self.create_volume(size, 'file1')
        src = self.path_of(vol)
        holes = [(0, 8 * MiB), (24 * MiB, 16 * MiB), (56 * MiB, 8 * MiB)]
        expected = self.write_pattern(src, size, seed=2, holes=holes)
        final, _ = self.wait_migration(
            self.migrate(vol['id'], 'file2')['id'])
        self.assertEqual('success', final['status'], final)
        dst = self.path_of(self.get_volume(vol['id']))
        self.assert_same_bytes(expected, dst)
        allocated = os.stat(dst).st_blocks * 512
        self.assertLessEqual(allocated, 33 * MiB,
                             'holes were written out: %d bytes allocated'
                             % allocated)

    def test_size_not_a_multiple_of_the_block_size(self):
        size = 3 * MiB + 512
        vol = self.create_volume(size, 'file1')
        expected = self.write_pattern(self.path_of(vol), size, seed=3)
        final, _ = self.wait_migration(
            self.migrate(vol['id'], 'file2')['id'])
        self.assertEqual('success', final['status'], final)
        dst = self.path_of(self.get_volume(vol['id']))
        self.assertEqual(size, os.path.getsize(dst))
        self.assert_same_bytes(expected, dst)

    def test_migrate_back_and_forth(self):
        size = 4 * MiB
        vol = self.create_volume(size, 'file1')
        expected = self.write_pattern(self.path_of(vol), size, seed=4)
        for target in ('file2', 'file1', 'file2'):
            final, _ = self.wait_migration(
                self.migrate(vol['id'], target)['id'])
            self.assertEqual('success', final['status'], final)
            after = self.get_volume(vol['id'])
            self.assertEqual(target, after['backend'])
            self.assert_same_bytes(expected, self.path_of(after))
        self.assertEqual(3, len(self.app.get(
            '/v1/migrations?volume_id=%s' % vol['id']).json['migrations']))

    def test_copy_failure_rolls_back_and_says_why(self):
        size = 4 * MiB
        vol = self.create_volume(size, 'file1')
        os.unlink(self.path_of(vol))  # the source data is gone
        final, _ = self.wait_migration(
            self.migrate(vol['id'], 'file2', force=True)['id'])
        self.assertEqual('error', final['status'], final)
        self.assertEqual('done', final['phase'])
        self.assertTrue(final['error'], final)
        after = self.get_volume(vol['id'])
        self.assertEqual('file1', after['backend'])
        self.assertEqual('available', after['status'])
        self.assertEqual('error', after['migration_status'])
        self.assert_no_hidden_volumes()
        self.assertEqual([], os.listdir(os.path.join(self.state_path,
                                                     'file2')))
        events = [n[1] for n in self.system.notifications()]
        self.assertIn('volume.migration.error', events)


class TestWatchAndControl(base.FlowTestCase):
    """Slow copies (throttled) to watch statuses, progress and cancel."""

    BPS_LIMIT = 4 * MiB

    def test_statuses_progress_and_notifications(self):
        size = 20 * MiB   # about 5 s at the limit
        vol = self.create_volume(size, 'file1')
        expected = self.write_pattern(self.path_of(vol), size, seed=5)
        mig = self.migrate(vol['id'], 'file2', force=True)
        percentages = set()

        def _copying_done():
            view = self.get_migration(mig['id'])
            if view['status'] == 'migrating':
                percentages.add(view['percentage'])
                self.assertEqual('maintenance',
                                 self.get_volume(vol['id'])['status'])
                if view['rate_bps']:
                    self.assertIsNotNone(view['eta_seconds'])
            return view['status'] not in ('queued', 'starting', 'migrating')
        self.system.wait_for(_copying_done, 'copy end', 120, 0.05)
        final, seen = self.wait_migration(mig['id'])
        self.assertEqual('success', final['status'], final)
        self.assertGreaterEqual(len(percentages - {0.0, 100.0}), 3,
                                percentages)
        after = self.get_volume(vol['id'])
        self.assertEqual('available', after['status'])
        self.assert_same_bytes(expected, self.path_of(after))

        notes = self.system.notifications()
        events = [n[1] for n in notes]
        self.assertEqual('volume.migration.start', events[0])
        self.assertEqual('volume.migration.end', events[-1])
        progress = [n[2] for n in notes
                    if n[1] == 'volume.migration.progress']
        self.assertGreaterEqual(len(progress), 3)
        for payload in progress:
            self.assertEqual(mig['id'], payload['migration_id'])
            self.assertEqual(vol['id'], payload['volume_id'])
            self.assertEqual(size, payload['bytes_total'])
        self.assertEqual(sorted(p['bytes_done'] for p in progress),
                         [p['bytes_done'] for p in progress])

    def test_cancel_leaves_the_volume_where_it_was(self):
        size = 40 * MiB
        vol = self.create_volume(size, 'file1')
        src = self.path_of(vol)
        expected = self.write_pattern(src, size, seed=6)
        mig = self.migrate(vol['id'], 'file2', force=True)
        self.wait_copy_started(mig['id'])
        resp = self.app.post('/v1/migrations/%s/cancel' % mig['id'],
                             status=202)
        self.assertIn(resp.json['migration']['status'],
                      ('migrating', 'cancelling'))
        final, _ = self.wait_migration(mig['id'])
        self.assertEqual('cancelled', final['status'], final)
        after = self.get_volume(vol['id'])
        self.assertEqual('file1', after['backend'])
        self.assertEqual('available', after['status'])
        self.assertEqual('cancelled', after['migration_status'])
        self.assert_same_bytes(expected, src)
        self.assert_no_hidden_volumes()
        self.assertEqual([], os.listdir(os.path.join(self.state_path,
                                                     'file2')))
        # A finished migration cannot be cancelled again.
        resp = self.app.post('/v1/migrations/%s/cancel' % mig['id'],
                             status=409)
        self.assertIn('cancel', resp.json['errors'][0]['detail'])

    def test_second_migration_of_a_migrating_volume_is_refused(self):
        vol = self.create_volume(20 * MiB, 'file1')
        self.write_pattern(self.path_of(vol), 20 * MiB, seed=7)
        mig = self.migrate(vol['id'], 'file2')
        resp = self.app.post_json('/v1/migrations', {'migration': {
            'volume_id': vol['id'], 'backend': 'file2'}}, status=409)
        self.assertIn(mig['id'], resp.json['errors'][0]['detail'])
        self.assertEqual(1, len(db_api.migration_get_all()))
        final, _ = self.wait_migration(mig['id'])
        self.assertEqual('success', final['status'])
