"""Tokens validated by keystonemiddleware against the real keystone."""

from tests.integration.keystone import base


class AuthTest(base.KeystoneAPITestCase):

    def assertUnauthorized(self, headers):
        resp = self.kapp.get('/v1/volumes', headers=headers, status=401)
        err = self.assertError(resp, 401, 'migrator.unauthorized',
                               'Authentication required')
        self.assertEqual('Unauthorized', err['title'])
        self.assertEqual('Keystone uri="%s"' % self.keystone.url,
                         resp.headers['WWW-Authenticate'])

    def test_no_token_is_401_with_a_challenge(self):
        self.assertUnauthorized({})

    def test_bad_token_is_401(self):
        self.assertUnauthorized({'X-Auth-Token': 'not-a-token'})

    def test_forged_identity_headers_are_ignored(self):
        # keystonemiddleware strips what a client claims about itself.
        self.assertUnauthorized(dict(base.api_base.ADMIN_HEADERS))

    def test_version_discovery_is_public(self):
        for path in ('/', '/v1'):
            resp = self.kapp.get(path, status=200)
            self.assertIn('v1', resp.text)

    def test_token_identifies_user_and_project(self):
        created = self.kapp.post_json(
            '/v1/volumes', {'volume': {'size': 512, 'backend': 'file1'}},
            headers=self.headers('member'), status=202).json['volume']
        access = base.token('member')[1]
        self.assertEqual((access.project_id, access.user_id),
                         (created['project_id'], created['user_id']))
