"""Migrate, list, show and cancel: shapes, derived fields and filters."""

import datetime

from oslo_utils import timeutils

from migrator_api.common import states
from migrator_api.db import api as db_api
from tests.functional.api import base

MESSAGE = ('Your migration request has been received. Please check '
           'migration status and the server log to see more information.')


class MigrationsTest(base.APITestCase):

    def test_create(self):
        vol = self.make_volume()
        resp = self.app.post_json('/v1/migrations', {'migration': {
            'volume_id': vol.id, 'backend': 'block1'}})
        self.assertEqual(202, resp.status_int)
        self.assertEqual(MESSAGE, resp.json['message'])
        mig = resp.json['migration']
        self.assertEqual(vol.id, mig['volume_id'])
        self.assertEqual('file1', mig['source_backend'])
        self.assertEqual('block1', mig['dest_backend'])
        self.assertEqual(states.M_QUEUED, mig['status'])
        self.assertEqual(states.P_QUEUED, mig['phase'])
        self.assertFalse(mig['force'])
        self.assertEqual(0.0, mig['percentage'])
        self.assertEqual(0, mig['bytes_done'])
        self.assertEqual(base.GIB, mig['bytes_total'])
        self.assertIsNone(mig['eta_seconds'])
        self.assertIsNone(mig['finished_at'])
        self.assertTrue(mig['created_at'].endswith('Z'))
        self.assertIsNone(mig['started_at'])   # still queued
        self.assertEqual(
            [{'rel': 'self',
              'href': 'http://localhost/v1/migrations/%s' % mig['id']},
             {'rel': 'volume',
              'href': 'http://localhost/v1/volumes/%s' % vol.id}],
            mig['links'])
        row = db_api.volume_get(vol.id)
        self.assertEqual(states.AVAILABLE, row.status)
        self.assertEqual(states.M_QUEUED, row.migration_status)
        self.assertEqual([('start_migration', {'migration_id': mig['id']})],
                         self.casts())

    def test_create_force_sets_maintenance(self):
        vol = self.make_volume()
        resp = self.app.post_json('/v1/migrations', {'migration': {
            'volume_id': vol.id, 'backend': self.block1.id, 'force': True}})
        self.assertTrue(resp.json['migration']['force'])
        self.assertEqual(states.MAINTENANCE, db_api.volume_get(vol.id).status)
        shown = self.app.get('/v1/volumes/%s' % vol.id).json['volume']
        self.assertEqual(states.MAINTENANCE, shown['status'])
        self.assertEqual(states.M_QUEUED, shown['migration_status'])

    def test_show_progress(self):
        mig = self.make_migration(self.make_volume(size=1000 * 1024),
                                  status=states.M_MIGRATING,
                                  phase=states.P_COPYING,
                                  bytes_done=256 * 1024, rate_bps=1024)
        body = self.app.get('/v1/migrations/%s' % mig.id).json['migration']
        self.assertEqual(25.6, body['percentage'])
        self.assertEqual(256 * 1024, body['bytes_done'])
        self.assertEqual(1000 * 1024, body['bytes_total'])
        self.assertEqual(1024, body['rate_bps'])
        self.assertEqual(744, body['eta_seconds'])

    def test_show_finished(self):
        end = timeutils.utcnow().replace(microsecond=0)
        mig = self.make_migration(self.make_volume(),
                                  status=states.M_SUCCESS,
                                  phase=states.P_DONE, bytes_done=base.GIB,
                                  rate_bps=1024, finished_at=end)
        body = self.app.get('/v1/migrations/%s' % mig.id).json['migration']
        self.assertEqual(100.0, body['percentage'])
        self.assertIsNone(body['eta_seconds'])
        self.assertEqual(end.strftime('%Y-%m-%dT%H:%M:%SZ'),
                         body['finished_at'])

    def test_show_error(self):
        mig = self.make_migration(self.make_volume(), status=states.M_ERROR,
                                  phase=states.P_DONE,
                                  error='copy failed: disk full')
        body = self.app.get('/v1/migrations/%s' % mig.id).json['migration']
        self.assertEqual('copy failed: disk full', body['error'])

    def test_list_and_filters(self):
        m1 = self.make_migration(self.make_volume(), status=states.M_SUCCESS,
                                 phase=states.P_DONE)
        vol2 = self.make_volume(backend='block1')
        m2 = self.make_migration(vol2, backend='file1')

        def ids(query=''):
            return [m['id'] for m in
                    self.app.get('/v1/migrations' + query).json['migrations']]

        self.assertEqual([m1.id, m2.id], ids())
        self.assertEqual([m1.id], ids('?status=success'))
        self.assertEqual([m2.id], ids('?phase=queued'))
        self.assertEqual([m2.id], ids('?volume_id=%s' % vol2.id))
        self.assertEqual([m2.id], ids('?source_backend=block1'))
        self.assertEqual([m1.id], ids('?dest_backend=%s' % self.block1.id))
        self.assertEqual([], ids('?dest_backend=nope'))
        self.assertEqual([m2.id], ids('?limit=1&marker=%s' % m1.id))
        page = self.app.get('/v1/migrations?limit=1').json
        self.assertEqual('next', page['links'][0]['rel'])

    def test_cancel(self):
        mig = self.make_migration(self.make_volume(),
                                  status=states.M_MIGRATING,
                                  phase=states.P_COPYING)
        resp = self.app.post('/v1/migrations/%s/cancel' % mig.id)
        self.assertEqual(202, resp.status_int)
        self.assertTrue(resp.json['migration']['cancel_requested'])
        self.assertTrue(db_api.migration_get(mig.id).cancel_requested)
        self.assertEqual([('cancel_migration', {'migration_id': mig.id})],
                         self.casts())

    def test_cancel_with_empty_json_body(self):
        mig = self.make_migration(self.make_volume())
        resp = self.app.post_json('/v1/migrations/%s/cancel' % mig.id, {})
        self.assertEqual(202, resp.status_int)

    def test_hidden_destination_via_migration(self):
        vol = self.make_volume()
        dest = self.make_volume(backend='block1', hidden=True,
                                status=states.CREATING)
        mig = self.make_migration(vol, dest_volume_id=dest.id)
        body = self.app.get('/v1/migrations/%s' % mig.id).json['migration']
        self.assertEqual(dest.id, body['dest_volume_id'])
        listed = self.app.get('/v1/volumes').json['volumes']
        self.assertEqual([vol.id], [v['id'] for v in listed])
        shown = self.app.get('/v1/volumes/%s?include_hidden=1' % dest.id)
        self.assertTrue(shown.json['volume']['hidden'])

    def test_eta_unknown_without_rate(self):
        started = timeutils.utcnow() - datetime.timedelta(seconds=5)
        mig = self.make_migration(self.make_volume(),
                                  status=states.M_MIGRATING,
                                  phase=states.P_COPYING, started_at=started)
        body = self.app.get('/v1/migrations/%s' % mig.id).json['migration']
        self.assertIsNone(body['eta_seconds'])
        self.assertIsNone(body['rate_bps'])
