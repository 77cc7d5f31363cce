"""Create, list, show and delete volumes: shapes and filters."""

from migrator_api.common import states
from migrator_api.db import api as db_api
from migrator_api.db import models
from tests.functional.api import base


class VolumesTest(base.APITestCase):

    def test_create(self):
        resp = self.app.post_json('/v1/volumes', {'volume': {
            'size': base.GIB, 'backend': 'file1', 'name': 'data'}})
        self.assertEqual(202, resp.status_int)
        vol = resp.json['volume']
        self.assertEqual(base.GIB, vol['size'])
        self.assertEqual('data', vol['name'])
        self.assertEqual('file1', vol['backend'])
        self.assertEqual(states.CREATING, vol['status'])
        self.assertEqual('admin', vol['project_id'])
        self.assertEqual([], vol['attachments'])
        self.assertIsNone(vol['migration_status'])
        self.assertEqual('node1', vol['backend_host'])
        self.assertTrue(vol['created_at'].endswith('Z'))
        self.assertEqual('http://localhost/v1/volumes/%s' % vol['id'],
                         vol['links'][0]['href'])
        row = db_api.volume_get(vol['id'])
        self.assertEqual(self.file1.id, row.backend_id)
        self.assertEqual([('create_volume', {'volume_id': vol['id']})],
                         self.casts())

    def test_create_by_backend_id_without_name(self):
        resp = self.app.post_json('/v1/volumes', {'volume': {
            'size': 512, 'backend': self.block1.id}})
        self.assertEqual(202, resp.status_int)
        self.assertEqual('block1', resp.json['volume']['backend'])
        self.assertIsNone(resp.json['volume']['name'])

    def test_show(self):
        vol = self.make_volume(name='v')
        resp = self.app.get('/v1/volumes/%s' % vol.id)
        self.assertEqual(vol.id, resp.json['volume']['id'])
        self.assertEqual(states.AVAILABLE, resp.json['volume']['status'])
        self.assertFalse(resp.json['volume']['hidden'])

    def test_show_with_attachment(self):
        vol = self.make_volume(status=states.IN_USE)
        with db_api.writer() as session:
            session.add(models.Attachment(
                id='5b7a3ee1-9b4e-4cf0-9c4e-3f6a0b0d0c01', volume_id=vol.id,
                instance_uuid='0c1f4a8e-2d54-4c5f-9bb0-3f7e2e0c7a10',
                host='compute1', status='attached', device='vdb'))
        att = self.app.get('/v1/volumes/%s' % vol.id).json['volume'][
            'attachments']
        self.assertEqual([{'id': '5b7a3ee1-9b4e-4cf0-9c4e-3f6a0b0d0c01',
                           'instance_uuid':
                               '0c1f4a8e-2d54-4c5f-9bb0-3f7e2e0c7a10',
                           'host': 'compute1', 'status': 'attached',
                           'device': 'vdb'}], att)

    def test_delete(self):
        vol = self.make_volume()
        resp = self.app.delete('/v1/volumes/%s' % vol.id)
        self.assertEqual(202, resp.status_int)
        self.assertEqual(b'', resp.body)
        self.assertEqual(states.DELETING, db_api.volume_get(vol.id).status)
        self.assertEqual([('delete_volume', {'volume_id': vol.id})],
                         self.casts())

    def test_list_and_filters(self):
        v1 = self.make_volume(name='a')
        v2 = self.make_volume(name='b', backend='block1',
                              status=states.ERROR)
        v3 = self.make_volume(name='c', project_id='p-other')
        db_api.volume_update(v3.id, {'migration_status': states.M_SUCCESS})

        def ids(query=''):
            return [v['id'] for v in
                    self.app.get('/v1/volumes' + query).json['volumes']]

        self.assertEqual([v1.id, v2.id, v3.id], ids())
        self.assertEqual([v2.id], ids('?status=error'))
        self.assertEqual([v2.id], ids('?backend=block1'))
        self.assertEqual([v2.id], ids('?backend=%s' % self.block1.id))
        self.assertEqual([], ids('?backend=no-such-backend'))
        self.assertEqual([v1.id], ids('?name=a'))
        self.assertEqual([v3.id], ids('?project_id=p-other'))
        self.assertEqual([v3.id], ids('?migration_status=success'))
        self.assertEqual([v1.id, v2.id], ids('?migration_status=none'))
        self.assertEqual([], ids('?migration_status=migrating'))
        self.assertEqual([v1.id], ids('?migration_status=none&backend=file1'))

    def test_migration_status_filter_while_migrating(self):
        vol = self.make_volume()
        other = self.make_volume()
        self.make_migration(vol)
        body = self.app.get('/v1/volumes?migration_status=queued').json
        self.assertEqual([vol.id], [v['id'] for v in body['volumes']])
        self.assertEqual(states.M_QUEUED,
                         body['volumes'][0]['migration_status'])
        body = self.app.get('/v1/volumes?migration_status=none').json
        self.assertEqual([other.id], [v['id'] for v in body['volumes']])

    def test_pagination(self):
        vols = [self.make_volume(name='v%d' % i) for i in range(5)]
        page = self.app.get('/v1/volumes?limit=2').json
        self.assertEqual([v.id for v in vols[:2]],
                         [v['id'] for v in page['volumes']])
        self.assertEqual('next', page['links'][0]['rel'])
        href = page['links'][0]['href']
        self.assertIn('marker=%s' % vols[1].id, href)
        page = self.app.get(href.replace('http://localhost', '')).json
        self.assertEqual([v.id for v in vols[2:4]],
                         [v['id'] for v in page['volumes']])
        last = self.app.get('/v1/volumes?limit=2&marker=%s' % vols[3].id)
        self.assertEqual([vols[4].id],
                         [v['id'] for v in last.json['volumes']])
        self.assertEqual([], last.json['links'])

    def test_hidden_volume(self):
        hidden = self.make_volume(hidden=True)
        self.assertEqual([], self.app.get('/v1/volumes').json['volumes'])
        resp = self.app.get('/v1/volumes/%s' % hidden.id, status=404)
        self.assertError(resp, 404, 'migrator.volume_not_found', hidden.id)
        listed = self.app.get('/v1/volumes?include_hidden=true').json
        self.assertEqual([hidden.id], [v['id'] for v in listed['volumes']])
        self.assertTrue(listed['volumes'][0]['hidden'])
        shown = self.app.get('/v1/volumes/%s?include_hidden=true'
                             % hidden.id).json
        self.assertEqual(hidden.id, shown['volume']['id'])
