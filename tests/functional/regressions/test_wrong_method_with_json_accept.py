"""Regression: with ``Accept: application/json`` (what the CLI and every
SDK send) a method a resource does not have answered 406 with a generic
body and no Allow header, while without Accept it answered 405.  It is
405 with Allow either way."""

from tests.functional.api import base

ROUTES = [('/', 'GET'), ('/v1', 'GET'), ('/v1/backends', 'GET'),
          ('/v1/volumes', 'GET, POST'),
          ('/v1/volumes/%s' % base.INSTANCE, 'DELETE, GET'),
          ('/v1/migrations', 'GET, POST'),
          ('/v1/migrations/%s/cancel' % base.INSTANCE, 'POST'),
          ('/v1/attachments', 'GET, POST'), ('/v1/services', 'GET')]


class TestWrongMethod(base.APITestCase):

    def test_405_with_allow_whatever_the_accept_header(self):
        for accept in ('application/json', None, '*/*'):
            headers = {'Accept': accept} if accept else {}
            for path, allowed in ROUTES:
                for method in ('PUT', 'PATCH'):
                    resp = self.app.request(path, method=method,
                                            headers=headers,
                                            expect_errors=True)
                    self.assertEqual(405, resp.status_int,
                                     (accept, method, path, resp.text))
                    self.assertEqual(allowed, resp.headers['Allow'])
                    err = resp.json['errors'][0]
                    self.assertEqual('migrator.method_not_allowed',
                                     err['code'])
                    self.assertIn('allowed: %s' % allowed, err['detail'])

    def test_accept_without_json_is_a_clear_406(self):
        resp = self.app.get('/v1/backends', headers={'Accept': 'text/html'},
                            expect_errors=True)
        self.assertEqual(406, resp.status_int)
        self.assertIn('only application/json',
                      resp.json['errors'][0]['detail'])
