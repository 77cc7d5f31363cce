"""Regression: a volume name holding a lone UTF-16 surrogate
(``"\\ud800"`` in JSON) answered 500 from the database layer.  Strings
that no database stores as text (lone surrogates, NUL) are now a 400
naming the field, and nothing is recorded."""

from migrator_api.db import api as db_api
from tests.functional.api import base


class TestLoneSurrogate(base.APITestCase):

    def _post(self, path, text):
        resp = self.app.post(path, text.encode(), expect_errors=True,
                             headers={'Content-Type': 'application/json'})
        self.assertEqual(400, resp.status_int, resp.text)
        return resp.json['errors'][0]

    def test_volume_name_with_a_surrogate_is_400(self):
        err = self._post('/v1/volumes', '{"volume": {"size": 1048576, '
                         '"backend": "file1", "name": "a\\ud800b"}}')
        self.assertEqual('migrator.invalid_input', err['code'])
        self.assertIn('field volume.name', err['detail'])
        self.assertIn('surrogate', err['detail'])
        self.assertEqual([], db_api.volume_get_all())

    def test_nul_and_surrogates_anywhere_are_400(self):
        vol = self.make_volume()
        for path, text, field in [
                ('/v1/volumes', '{"volume": {"size": 1048576, "backend": '
                 '"file1", "name": "a\\u0000"}}', 'volume.name'),
                ('/v1/volumes', '{"volume": {"size": 1048576, "backend": '
                 '"\\udc00"}}', 'volume.backend'),
                ('/v1/migrations', '{"migration": {"volume_id": "%s", '
                 '"backend": "\\ud83d"}}' % vol.id, 'migration.backend'),
                ('/v1/volumes', '{"\\ud800": 1}', '\\ud800')]:
            err = self._post(path, text)
            self.assertIn('field %s' % field, err['detail'])
        self.assertEqual([vol.id], [v.id for v in db_api.volume_get_all()])
        self.assertEqual([], db_api.migration_get_all())
        self.assertEqual([], self.casts())

    def test_bad_utf8_and_nul_in_the_query_are_400(self):
        for query, detail in [('name=%ED%A0%80', 'not valid UTF-8'),
                              ('name=%FF', 'not valid UTF-8'),
                              ('name=a%00', 'NUL')]:
            resp = self.app.get('/v1/volumes?' + query, expect_errors=True)
            self.assertEqual(400, resp.status_int, resp.text)
            self.assertIn(detail, resp.json['errors'][0]['detail'])
