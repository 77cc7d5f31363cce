"""Version discovery, routing errors, request ids, faults, auth."""

from unittest import mock

import webtest

from migrator_api.api import app
from migrator_api.db import api as db_api
from tests.functional.api import base


class RootTest(base.APITestCase):

    def test_versions(self):
        resp = self.app.get('/')
        self.assertEqual('application/json', resp.content_type)
        self.assertTrue(resp.headers['X-OpenStack-Request-Id'].startswith(
            'req-'))
        self.assertEqual(
            {'versions': [{'id': 'v1', 'status': 'CURRENT',
                           'min_version': '', 'version': '',
                           'links': [{'rel': 'self',
                                      'href': 'http://localhost/v1/'}]}]},
            resp.json)

    def test_v1(self):
        body = self.app.get('/v1').json
        self.assertEqual('v1', body['id'])
        rels = {link['rel']: link['href'] for link in body['links']}
        self.assertEqual('http://localhost/v1/volumes', rels['volumes'])
        self.assertEqual({'self', 'backends', 'volumes', 'attachments',
                          'migrations', 'services'}, set(rels))
        self.assertEqual(body, self.app.get('/v1/').json)

    def test_unknown_paths(self):
        for path in ('/v2', '/v1/nope', '/v1/volumes/index',
                     '/v1/volumes/_lookup', '/v1/backends/file1/pools',
                     '/index', '/v1//volumes'):
            err = self.assertRejected('get', path, 404)
            self.assertTrue(err['code'].startswith('migrator.'), path)

    def test_unknown_path_detail(self):
        self.assertRejected('get', '/v1/nope', 404, 'migrator.not_found',
                            'No resource at /v1/nope.')

    def test_wrong_method_has_allow_header(self):
        resp = self.app.patch_json('/v1/volumes', {}, expect_errors=True)
        self.assertError(resp, 405, 'migrator.method_not_allowed',
                         'Method PATCH is not allowed on /v1/volumes')
        self.assertEqual('GET, POST', resp.headers['Allow'])
        self.assertRejected('post', '/', 405, 'migrator.method_not_allowed',
                            'allowed: GET', body={})

    def test_query_on_root(self):
        self.assertRejected('get', '/?x=1', 400, 'migrator.invalid_input',
                            "unknown query parameter 'x'")

    def test_not_acceptable(self):
        resp = self.app.get('/v1/backends', headers={'Accept': 'text/xml'},
                            expect_errors=True)
        self.assertError(resp, 406, 'migrator.not_acceptable')

    def test_unexpected_error_is_a_500_without_traceback(self):
        with mock.patch.object(db_api, 'backend_get_all',
                               side_effect=RuntimeError('secret /etc/x')):
            resp = self.app.get('/v1/backends', expect_errors=True)
        err = self.assertError(resp, 500, 'migrator.internal')
        self.assertNotIn('secret', resp.text)
        self.assertIn(err['request_id'], err['detail'])

    def test_request_ids_differ(self):
        ids = {self.app.get('/').headers['X-OpenStack-Request-Id']
               for _ in range(3)}
        self.assertEqual(3, len(ids))


class KeystoneAuthTest(base.APITestCase):
    """With auth_strategy=keystone and keystonemiddleware in place."""

    def setUp(self):
        super().setUp()
        self.flags(auth_strategy='keystone', group='api')
        self.flags(www_authenticate_uri='http://keystone.example/v3',
                   group='keystone_authtoken')
        self.kapp = webtest.TestApp(app.setup_app(self.conf))

    def test_no_token_is_a_401(self):
        resp = self.kapp.get('/v1/volumes', expect_errors=True)
        self.assertError(resp, 401, 'migrator.unauthorized',
                         'Authentication required')
        self.assertEqual('Keystone uri="http://keystone.example/v3"',
                         resp.headers['WWW-Authenticate'])

    def test_spoofed_identity_headers_are_ignored(self):
        resp = self.kapp.get('/v1/volumes', headers=base.ADMIN_HEADERS,
                             expect_errors=True)
        self.assertError(resp, 401, 'migrator.unauthorized')

    def test_version_discovery_is_public(self):
        self.assertEqual('v1', self.kapp.get('/').json['versions'][0]['id'])
        self.assertEqual('v1', self.kapp.get('/v1').json['id'])
