"""Bad requests to /v1/volumes: a 4xx, a useful detail, nothing changed."""

from migrator_api.common import states
from migrator_api.db import api as db_api
from migrator_api.db import models
from tests.functional.api import base

BAD = 'migrator.invalid_input'
UNKNOWN_ID = '8b0b5e6c-7a11-4d6e-9d53-1f2a3b4c5d6e'


class CreateVolumeErrorsTest(base.APITestCase):

    def post(self, status, body, detail=(), code=BAD, **kwargs):
        return self.assertRejected('post', '/v1/volumes', status, code,
                                   detail, body=body, **kwargs)

    def vol(self, **fields):
        body = {'size': base.GIB, 'backend': 'file1'}
        body.update(fields)
        return {'volume': {k: v for k, v in body.items() if v is not None}}

    def test_malformed_json(self):
        self.post(400, b'{"volume": {"size": 512,', 'not valid JSON')

    def test_empty_body(self):
        self.post(400, b'', 'not valid JSON')

    def test_not_json(self):
        self.post(415, b'size=512', 'must be JSON',
                  code='migrator.unsupported_media_type',
                  content_type='application/x-www-form-urlencoded')

    def test_body_too_large(self):
        self.post(413, {'volume': {'size': 512, 'backend': 'file1',
                                   'name': 'x' * 70000}},
                  'larger than 65536 bytes',
                  code='migrator.request_too_large')

    def test_body_not_an_object(self):
        self.post(400, [1, 2], "request body: [1, 2] is not of type 'object'")

    def test_missing_envelope(self):
        self.post(400, {'size': 512, 'backend': 'file1'},
                  "'volume' is a required property")

    def test_extra_top_level_field(self):
        body = self.vol()
        body['force'] = True
        self.post(400, body, "'force' was unexpected")

    def test_missing_size(self):
        self.post(400, self.vol(size=None),
                  "field volume: 'size' is a required property")

    def test_missing_backend(self):
        self.post(400, self.vol(backend=None),
                  "field volume: 'backend' is a required property")

    def test_extra_field(self):
        self.post(400, self.vol(type='ssd'),
                  ["field volume:", "'type' was unexpected"])

    def test_negative_size(self):
        self.post(400, self.vol(size=-512), 'field volume.size: -512')

    def test_zero_size(self):
        self.post(400, self.vol(size=0), 'field volume.size: 0')

    def test_size_not_multiple_of_512(self):
        self.post(400, self.vol(size=1000),
                  'field volume.size: 1000 is not a multiple of 512')

    def test_size_as_string(self):
        self.post(400, self.vol(size='1024'),
                  "field volume.size: '1024' is not of type 'integer'")

    def test_size_as_float(self):
        self.post(400, self.vol(size=1024.0),
                  "field volume.size: 1024.0 is not of type 'integer'")

    def test_size_as_bool(self):
        self.post(400, self.vol(size=True), 'field volume.size: True')

    def test_size_too_large(self):
        self.post(400, self.vol(size=2 ** 63), 'field volume.size')

    def test_backend_wrong_type(self):
        self.post(400, self.vol(backend=12),
                  "field volume.backend: 12 is not of type 'string'")

    def test_backend_empty(self):
        self.post(400, self.vol(backend=''), 'field volume.backend')

    def test_name_too_long(self):
        self.post(400, self.vol(name='x' * 256), 'field volume.name')

    def test_name_wrong_type(self):
        self.post(400, self.vol(name=['a']), 'field volume.name')

    def test_unknown_backend(self):
        self.post(404, self.vol(backend='nope'), 'Backend nope',
                  code='migrator.backend_not_found')

    def test_backend_down(self):
        db_api.backend_sync('node3', [{'name': 'dead', 'backend_type':
                                       'file'}])
        self.post(409, self.vol(backend='dead'),
                  ['Backend dead is not available', 'node3 is down'],
                  code='migrator.backend_unavailable')

    def test_insufficient_capacity(self):
        self.post(409, self.vol(backend='block1', size=8 * base.GIB),
                  'Backend block1 cannot hold 8589934592 bytes',
                  code='migrator.insufficient_capacity')


class ListVolumesErrorsTest(base.APITestCase):

    def get(self, query, detail):
        return self.assertRejected('get', '/v1/volumes?' + query, 400, BAD,
                                   detail)

    def test_unknown_parameter(self):
        self.get('colour=red', ["unknown query parameter 'colour'",
                                'allowed: backend'])

    def test_repeated_parameter(self):
        self.get('status=error&status=available', 'more than once')

    def test_bad_status(self):
        self.get('status=broken', "query parameter status: 'broken' is not")

    def test_bad_migration_status(self):
        self.get('migration_status=done',
                 "query parameter migration_status: 'done' is not one of")

    def test_bad_include_hidden(self):
        self.get('include_hidden=maybe', 'query parameter include_hidden')

    def test_limit_zero(self):
        self.get('limit=0', "limit: '0' is not a positive integer")

    def test_limit_negative(self):
        self.get('limit=-1', "limit: '-1' is not a positive integer")

    def test_limit_not_a_number(self):
        self.get('limit=ten', "limit: 'ten' is not a positive integer")

    def test_limit_above_max(self):
        self.flags(max_limit=10, group='api')
        self.get('limit=11', 'limit: 11 is more than the maximum of 10')

    def test_marker_not_a_uuid(self):
        self.get('marker=abc', "query parameter marker: 'abc' is not a 'uuid'")

    def test_marker_unknown(self):
        self.get('marker=%s' % UNKNOWN_ID,
                 'marker %s does not exist' % UNKNOWN_ID)

    def test_empty_name(self):
        self.get('name=', 'query parameter name')


class ShowDeleteVolumeErrorsTest(base.APITestCase):

    def test_show_unknown(self):
        self.assertRejected('get', '/v1/volumes/%s' % UNKNOWN_ID, 404,
                            'migrator.volume_not_found', UNKNOWN_ID)

    def test_show_not_a_uuid(self):
        self.assertRejected('get', '/v1/volumes/not-a-uuid', 404,
                            'migrator.volume_not_found', 'not-a-uuid')

    def test_show_unknown_parameter(self):
        vol = self.make_volume()
        self.assertRejected('get', '/v1/volumes/%s?fields=id' % vol.id, 400,
                            BAD, "unknown query parameter 'fields'")

    def test_delete_unknown(self):
        self.assertRejected('delete', '/v1/volumes/%s' % UNKNOWN_ID, 404,
                            'migrator.volume_not_found', UNKNOWN_ID)

    def test_delete_with_query(self):
        vol = self.make_volume()
        self.assertRejected('delete', '/v1/volumes/%s?force=1' % vol.id,
                            400, BAD, "unknown query parameter 'force'")

    def test_delete_creating(self):
        vol = self.make_volume(status=states.CREATING)
        self.assertRejected('delete', '/v1/volumes/%s' % vol.id, 409,
                            'migrator.invalid_volume_status',
                            ['is creating', 'available or error'])

    def test_delete_attached(self):
        vol = self.make_volume(status=states.IN_USE)
        with db_api.writer() as session:
            session.add(models.Attachment(
                id='5b7a3ee1-9b4e-4cf0-9c4e-3f6a0b0d0c01', volume_id=vol.id,
                instance_uuid='0c1f4a8e-2d54-4c5f-9bb0-3f7e2e0c7a10',
                host='compute1', status='attached'))
        self.assertRejected('delete', '/v1/volumes/%s' % vol.id, 409,
                            'migrator.invalid_volume_status', 'detached')

    def test_delete_migrating(self):
        vol = self.make_volume()
        self.make_migration(vol)
        self.assertRejected('delete', '/v1/volumes/%s' % vol.id, 409,
                            'migrator.volume_migrating', 'being migrated')

    def test_wrong_method(self):
        vol = self.make_volume()
        err = self.assertRejected('put', '/v1/volumes/%s' % vol.id, 405,
                                  'migrator.method_not_allowed',
                                  'allowed: DELETE, GET', body={})
        self.assertIn('PUT', err['detail'])

    def test_unknown_subpath(self):
        vol = self.make_volume()
        self.assertRejected('get', '/v1/volumes/%s/snapshots' % vol.id, 404,
                            'migrator.not_found', 'No resource at')
