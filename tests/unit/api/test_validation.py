"""Body and query validation without the app."""

import webob
import webob.exc

from migrator_api.api.schemas import migrations as mig_schema
from migrator_api.api.schemas import volumes as vol_schema
from migrator_api.api import validation
from migrator_api.common import exception
from tests import base


def request(body=None, query='', content_type='application/json'):
    req = webob.Request.blank('/x' + (('?' + query) if query else ''),
                              method='POST')
    if body is not None:
        req.body = body.encode() if isinstance(body, str) else body
        req.content_type = content_type
    return req


class BodyTest(base.TestCase):

    def invalid(self, body, schema=vol_schema.create, **kwargs):
        return self.assertRaises(exception.InvalidInput, validation.body,
                                 request(body, **kwargs), schema).message

    def test_valid(self):
        body = validation.body(request('{"volume": {"size": 512, '
                                       '"backend": "b"}}'),
                               vol_schema.create)
        self.assertEqual({'volume': {'size': 512, 'backend': 'b'}}, body)

    def test_charset_in_content_type(self):
        body = validation.body(
            request('{}', content_type='application/json; charset=UTF-8'),
            mig_schema.cancel)
        self.assertEqual({}, body)

    def test_not_json(self):
        exc = self.assertRaises(webob.exc.HTTPUnsupportedMediaType,
                                validation.body,
                                request('a=b', content_type='text/plain'),
                                vol_schema.create)
        self.assertIn('text/plain', exc.detail)

    def test_malformed(self):
        self.assertIn('not valid JSON', self.invalid('{"volume":'))

    def test_messages_name_the_field(self):
        self.assertEqual(
            'Invalid input: field volume.size: 1 is not a multiple of 512',
            self.invalid('{"volume": {"size": 1, "backend": "b"}}'))
        self.assertIn("field migration.volume_id: 'x' is not a 'uuid'",
                      self.invalid('{"migration": {"volume_id": "x", '
                                   '"backend": "b"}}', mig_schema.create))

    def test_integer_excludes_float_and_bool(self):
        for size in ('512.0', 'true'):
            self.assertIn('field volume.size',
                          self.invalid('{"volume": {"size": %s, '
                                       '"backend": "b"}}' % size))

    def test_optional_body(self):
        self.assertEqual({}, validation.body(request(), mig_schema.cancel,
                                             optional=True))
        self.assertIn('not valid JSON', self.invalid(None))


class QueryTest(base.TestCase):

    def query(self, qs, schema=vol_schema.list_query, max_limit=100):
        return validation.query(request(query=qs), schema, max_limit)

    def invalid(self, qs, **kwargs):
        return self.assertRaises(exception.InvalidInput, self.query, qs,
                                 **kwargs).message

    def test_valid(self):
        self.assertEqual({'status': 'available', 'limit': 10,
                          'migration_status': 'none'},
                         self.query('status=available&limit=10&'
                                    'migration_status=none'))

    def test_limit(self):
        self.assertEqual(100, self.query('limit=100')['limit'])
        self.assertIn('more than the maximum of 100',
                      self.invalid('limit=101'))
        for bad in ('0', '-3', 'x', '1e3', '', '%D9%A1', '+5'):
            self.assertIn('is not a positive integer',
                          self.invalid('limit=' + bad))

    def test_unknown_and_repeated(self):
        self.assertIn("unknown query parameter 'sort'",
                      self.invalid('sort=name'))
        self.assertIn('more than once', self.invalid('name=a&name=b'))

    def test_no_query_allowed(self):
        self.assertIn('allowed: none',
                      self.invalid('a=1', schema=validation.NO_QUERY))

    def test_is_true(self):
        for value in validation.TRUE_VALUES:
            self.assertTrue(validation.is_true({'x': value}, 'x'))
        self.assertFalse(validation.is_true({'x': 'false'}, 'x'))
        self.assertFalse(validation.is_true({}, 'x'))
