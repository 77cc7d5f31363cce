"""Regression: ``Content-Type: multipart/form-data`` without a boundary
answered 500 on every POST and DELETE, raised before any handler ran
(pecan parsed the body as a form to find the handler's arguments).  Now
any body that is not JSON is a 415 in the API-SIG shape, a Content-Type
without a body is ignored, and nothing changes."""

from tests.functional.api import base


class TestMultipartWithoutBoundary(base.APITestCase):

    def setUp(self):
        super().setUp()
        self.vol = self.make_volume()

    def _request(self, method, path, body):
        return self.app.request(
            path, method=method, body=body, expect_errors=True,
            headers={'Content-Type': 'multipart/form-data',
                     'Accept': 'application/json'})

    def test_every_post_and_delete_is_a_clear_415(self):
        mig = self.make_migration(self.make_volume())
        before = self.db_state()
        for method, path in [
                ('POST', '/v1/volumes'), ('POST', '/v1/migrations'),
                ('POST', '/v1/attachments'),
                ('POST', '/v1/migrations/%s/cancel' % mig.id),
                ('DELETE', '/v1/volumes/%s' % self.vol.id),
                ('DELETE', '/v1/attachments/%s' % base.INSTANCE)]:
            resp = self._request(method, path, b'--x\r\n')
            self.assertEqual(415, resp.status_int, (method, path, resp.text))
            err = resp.json['errors'][0]
            self.assertEqual('migrator.unsupported_media_type', err['code'])
            self.assertIn('must be JSON', err['detail'])
            self.assertIn('multipart/form-data', err['detail'])
        self.assertEqual(before, self.db_state())
        self.assertEqual([], self.casts())

    def test_content_type_without_a_body_is_ignored(self):
        resp = self._request('DELETE', '/v1/volumes/%s' % self.vol.id, b'')
        self.assertEqual(202, resp.status_int, resp.text)
