"""Regression (found by the fuzzer, tests/functional/fuzz): the OpenAPI
document allowed requests the API refuses as invalid, so that a client
generating requests from it got a 400 for requests it had every reason
to think valid: an empty name, host or id as a filter (``?host=``,
``?backend=``, ``?name=``, ``?project_id=``, ``?source_backend=``,
``?dest_backend=``) or as an attachment's host, one longer than 255
characters, and a volume size above 2^63 - 512 bytes (the largest a
signed 64-bit column holds in whole sectors).  The document now says
what the validation enforces: each such value is refused by both, and
the values next to them are accepted by both."""

import jsonschema

from tests.functional.api import base
from tests.functional.api import test_openapi

#: (path, query parameter) of the name, host and id filters.
FILTERS = [('/v1/backends', 'host'), ('/v1/volumes', 'backend'),
           ('/v1/volumes', 'name'), ('/v1/volumes', 'project_id'),
           ('/v1/migrations', 'source_backend'),
           ('/v1/migrations', 'dest_backend'), ('/v1/services', 'host')]
LONGEST = 2 ** 63 - 512


class TestDocumentLooserThanValidation(base.APITestCase):

    def setUp(self):
        super().setUp()
        self.spec = test_openapi.load_spec()

    def schema(self, node):
        return test_openapi.json_schema(self.spec, node)

    def valid(self, schema, value):
        return jsonschema.Draft4Validator(schema).is_valid(value)

    def test_name_filters(self):
        for path, name in FILTERS:
            param = next(p for p in self.spec['paths'][path]['get'][
                'parameters'] if p.get('name') == name)
            schema = self.schema(param['schema'])
            for value in ('', 'x' * 256):
                self.assertFalse(self.valid(schema, value), (path, name))
                self.assertRejected('get', '%s?%s=%s' % (path, name, value),
                                    400, 'migrator.invalid_input',
                                    'query parameter %s' % name)
            for value in ('x', 'x' * 255):
                self.assertTrue(self.valid(schema, value), (path, name))
                resp = self.app.get('%s?%s=%s' % (path, name, value))
                self.assertEqual(200, resp.status_int)

    def test_attachment_host(self):
        body = self.spec['components']['schemas']['AttachmentCreateRequest']
        schema = self.schema(body)
        vol = self.make_volume()
        for host in ('', 'x' * 256):
            request = {'attachment': {'volume_id': vol.id, 'host': host,
                                      'instance_uuid': base.INSTANCE}}
            self.assertFalse(self.valid(schema, request))
            self.assertRejected('post', '/v1/attachments', 400,
                                'migrator.invalid_input',
                                'field attachment.host', body=request)
        request['attachment']['host'] = base.COMPUTE_HOST
        self.assertTrue(self.valid(schema, request))

    def test_volume_size(self):
        schema = self.schema(
            self.spec['components']['schemas']['VolumeCreateRequest'])

        def request(size):
            return {'volume': {'size': size, 'backend': 'file1'}}
        self.assertFalse(self.valid(schema, request(LONGEST + 512)))
        self.assertRejected('post', '/v1/volumes', 400,
                            'migrator.invalid_input', 'field volume.size',
                            body=request(LONGEST + 512))
        self.assertTrue(self.valid(schema, request(LONGEST)))
        # Valid, and too large for the backend: a conflict.
        self.assertRejected('post', '/v1/volumes', 409,
                            'migrator.insufficient_capacity',
                            body=request(LONGEST))
