"""Default policy through the API: what non-admins may do and see."""

from migrator_api.common import states
from tests.functional.api import base

FORBIDDEN = 'migrator.forbidden'
MIGRATION_FIELDS = {'migration_status', 'backend_host', 'location', 'hidden',
                    'error'}
READER_HEADERS = dict(base.MEMBER_HEADERS, **{'X-Roles': 'reader'})
NO_ROLE_HEADERS = dict(base.MEMBER_HEADERS, **{'X-Roles': ''})


class NonAdminTest(base.APITestCase):

    def setUp(self):
        super().setUp()
        self.kapp = self.keystone_app()
        self.mine = self.make_volume(project_id='p-alice')
        self.theirs = self.make_volume(project_id='p-bob')
        self.migration = self.make_migration(self.make_volume())

    def forbidden(self, method, path, rule, headers=base.MEMBER_HEADERS,
                  body=None):
        return self.assertRejected(
            method, path, 403, FORBIDDEN,
            'Policy does not allow %s to be performed.' % rule,
            body=body, app=self.kapp, headers=headers)

    def test_migration_endpoints_are_admin_only(self):
        self.forbidden('get', '/v1/migrations', 'migrator:migration:list')
        self.forbidden('post', '/v1/migrations', 'migrator:migration:create',
                       body={'migration': {'volume_id': self.mine.id,
                                           'backend': 'block1'}})
        self.forbidden('get', '/v1/migrations/%s' % self.migration.id,
                       'migrator:migration:show')
        self.forbidden('post', '/v1/migrations/%s/cancel' % self.migration.id,
                       'migrator:migration:cancel', body={})

    def test_services_are_admin_only(self):
        self.forbidden('get', '/v1/services', 'migrator:service:list')

    def test_backends_readable(self):
        resp = self.kapp.get('/v1/backends', headers=READER_HEADERS)
        self.assertEqual(3, len(resp.json['backends']))
        self.kapp.get('/v1/backends/file1', headers=READER_HEADERS)
        self.forbidden('get', '/v1/backends', 'migrator:backend:list',
                       headers=NO_ROLE_HEADERS)

    def test_never_sees_migration_fields(self):
        created = self.kapp.post_json(
            '/v1/volumes', {'volume': {'size': 512, 'backend': 'file1'}},
            headers=base.MEMBER_HEADERS, status=202).json['volume']
        self.assertEqual('p-alice', created['project_id'])
        self.assertEqual('u-alice', created['user_id'])
        shown = self.kapp.get('/v1/volumes/%s' % self.mine.id,
                              headers=base.MEMBER_HEADERS).json['volume']
        listed = self.kapp.get('/v1/volumes',
                               headers=base.MEMBER_HEADERS).json['volumes']
        for view in [created, shown] + listed:
            self.assertEqual(set(), MIGRATION_FIELDS & set(view))

    def test_lists_only_own_project(self):
        listed = self.kapp.get('/v1/volumes', headers=READER_HEADERS).json
        self.assertEqual([self.mine.id],
                         [v['id'] for v in listed['volumes']])

    def test_other_project_volume_is_not_found(self):
        for method in ('get', 'delete'):
            self.assertRejected(method, '/v1/volumes/%s' % self.theirs.id,
                                404, 'migrator.volume_not_found',
                                app=self.kapp, headers=base.MEMBER_HEADERS)

    def test_admin_filters_forbidden(self):
        self.forbidden('get', '/v1/volumes?migration_status=none',
                       'migrator:volume:show_migration_fields')
        self.forbidden('get', '/v1/volumes?project_id=p-bob',
                       'migrator:volume:list_all_projects')
        self.forbidden('get', '/v1/volumes?include_hidden=true',
                       'migrator:volume:include_hidden')
        self.forbidden('get', '/v1/volumes/%s?include_hidden=true'
                       % self.mine.id, 'migrator:volume:include_hidden')

    def test_reader_cannot_change(self):
        self.forbidden('post', '/v1/volumes', 'migrator:volume:create',
                       headers=READER_HEADERS,
                       body={'volume': {'size': 512, 'backend': 'file1'}})
        self.forbidden('delete', '/v1/volumes/%s' % self.mine.id,
                       'migrator:volume:delete', headers=READER_HEADERS)

    def test_member_deletes_own(self):
        self.kapp.delete('/v1/volumes/%s' % self.mine.id,
                         headers=base.MEMBER_HEADERS, status=202)

    def test_unauthenticated_without_middleware(self):
        headers = dict(base.MEMBER_HEADERS, **{'X-Identity-Status':
                                               'Invalid'})
        self.assertRejected('get', '/v1/volumes', 401,
                            'migrator.unauthorized', app=self.kapp,
                            headers=headers)


class AdminTest(base.APITestCase):

    def test_admin_token_sees_everything(self):
        kapp = self.keystone_app()
        vol = self.make_volume(project_id='p-bob')
        self.make_migration(vol)
        listed = kapp.get('/v1/volumes?migration_status=queued',
                          headers=base.ADMIN_HEADERS).json['volumes']
        self.assertEqual([vol.id], [v['id'] for v in listed])
        self.assertEqual(states.M_QUEUED, listed[0]['migration_status'])
        self.assertEqual(1, len(kapp.get(
            '/v1/migrations', headers=base.ADMIN_HEADERS).json['migrations']))
        kapp.get('/v1/services', headers=base.ADMIN_HEADERS, status=200)
