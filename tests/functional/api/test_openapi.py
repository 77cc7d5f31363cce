"""The OpenAPI description and the app agree.

Every route of the app is in the spec and every path and method of the
spec is a route; every documented response is what the app sends, down
to the schema, for real requests to every operation.
"""

import copy
import os
import re
import socket

import jsonschema
import webtest
import yaml

from migrator_api.api.controllers import root
from migrator_api.common import states
from migrator_api.db import api as db_api
from tests.functional.api import base

SPEC_PATH = os.path.join(os.path.dirname(root.__file__), os.pardir,
                         'openapi.yaml')
METHODS = ('get', 'put', 'post', 'delete', 'patch')
UNKNOWN_ID = '8b0b5e6c-7a11-4d6e-9d53-1f2a3b4c5d6e'


def load_spec():
    with open(SPEC_PATH) as f:
        return yaml.safe_load(f)


def json_schema(spec, node):
    """An OpenAPI 3.0 schema as JSON Schema: $refs inlined, nullable."""
    if isinstance(node, list):
        return [json_schema(spec, n) for n in node]
    if not isinstance(node, dict):
        return node
    if '$ref' in node:
        target = spec
        for part in node['$ref'].lstrip('#/').split('/'):
            target = target[part]
        return json_schema(spec, target)
    out = {k: json_schema(spec, v) for k, v in node.items()
           if k not in ('nullable', 'example')}
    if node.get('nullable'):
        if 'type' in out:
            out['type'] = [out['type'], 'null']
        else:
            out = {'anyOf': [{'type': 'null'}, out]}
    return out


def spec_routes(spec):
    return {(method.upper(), path) for path, item in spec['paths'].items()
            for method in item if method in METHODS}


class _StalledInput:
    """A request body whose client stopped sending (a socket timeout)."""

    def read(self, size=-1):
        raise socket.timeout('timed out')

    readline = read

    def readlines(self, hint=-1):
        return self.read()

    def __iter__(self):
        return iter(self.read())


class OpenAPITest(base.APITestCase):

    def setUp(self):
        super().setUp()
        self.spec = load_spec()
        self.checked = set()

    def test_routes_match(self):
        app_routes = set(root.iter_routes())
        self.assertEqual(sorted(app_routes), sorted(spec_routes(self.spec)))

    def test_methods_not_in_spec_answer_405(self):
        vol = self.make_volume()
        mig = self.make_migration(vol)
        ids = {'volume_id': vol.id, 'migration_id': mig.id,
               'backend': 'file1', 'attachment_id': UNKNOWN_ID}
        schema = json_schema(self.spec, self.spec['components']['responses'][
            'MethodNotAllowed']['content']['application/json']['schema'])
        for path, item in self.spec['paths'].items():
            concrete = re.sub(r'{(\w+)}', lambda m: ids[m.group(1)], path)
            allowed = sorted(m.upper() for m in item if m in METHODS)
            for method in METHODS:
                if method in item:
                    continue
                resp = self.app.request(concrete, method=method.upper(),
                                        expect_errors=True)
                self.assertEqual(405, resp.status_int, (method, path))
                self.assertEqual(', '.join(allowed), resp.headers['Allow'])
                jsonschema.validate(resp.json, schema)

    def check(self, method, template, resp, app_path=None):
        """Validate ``resp`` against the spec's response for it."""
        op = self.spec['paths'][template][method]
        status = str(resp.status_int)
        self.assertIn(status, op['responses'],
                      '%s %s answered %s, which is not documented: %s'
                      % (method, template, status, resp.text))
        documented = op['responses'][status]
        if '$ref' in documented:
            documented = json_schema(self.spec, documented)
        content = documented.get('content')
        if content is None:
            self.assertEqual(b'', resp.body)
        else:
            self.assertEqual('application/json', resp.content_type)
            schema = json_schema(self.spec,
                                 content['application/json']['schema'])
            jsonschema.validate(resp.json, schema,
                                format_checker=jsonschema.FormatChecker())
        self.checked.add((method, template, status))
        return resp

    def call(self, method, template, path=None, body=None, app=None,
             **kwargs):
        app = app or self.app
        path = path or template
        if isinstance(body, (dict, list)):
            resp = getattr(app, method + '_json')(path, body,
                                                  expect_errors=True,
                                                  **kwargs)
        elif body is not None:
            resp = getattr(app, method)(path, body, expect_errors=True,
                                        **kwargs)
        else:
            resp = getattr(app, method)(path, expect_errors=True, **kwargs)
        return self.check(method, template, resp)

    def test_too_large(self):
        vol = self.make_volume()
        mig = self.make_migration(vol)
        big = {'pad': 'x' * 70000}
        for path in ('/v1/volumes', '/v1/migrations',
                     '/v1/migrations/{migration_id}/cancel'):
            concrete = path.replace('{migration_id}', mig.id)
            resp = self.call('post', path, concrete, body=big)
            self.assertEqual(413, resp.status_int)

    def test_stalled_body(self):
        mig = self.make_migration(self.make_volume())
        for path in ('/v1/volumes', '/v1/migrations', '/v1/attachments',
                     '/v1/migrations/{migration_id}/cancel'):
            concrete = path.replace('{migration_id}', mig.id)
            req = webtest.TestRequest.blank(
                concrete, method='POST',
                headers={'Content-Type': 'application/json'},
                environ={'wsgi.input': _StalledInput(),
                         'CONTENT_LENGTH': '8'})
            resp = self.check('post', path,
                              self.app.do_request(req, expect_errors=True))
            self.assertEqual(408, resp.status_int)

    def test_responses_match_schemas(self):
        db_api.backend_sync('node3', [{'name': 'dead',
                                       'backend_type': 'file'}])
        self.call('get', '/')
        self.call('get', '/v1')
        self.call('get', '/', '/?x=1')
        self.call('get', '/v1', '/v1?x=1')
        self._backends()
        vol_id = self._volumes()
        self._migrations(vol_id)
        self._attachments()
        self.call('get', '/v1/services')
        self.call('get', '/v1/services', '/v1/services?binary=x')
        self._auth_errors(vol_id)
        # Every operation was exercised for its success status.
        for path, item in self.spec['paths'].items():
            for method, op in item.items():
                if method not in METHODS:
                    continue
                for status in op['responses']:
                    if status in ('408', '413'):
                        continue  # test_too_large, test_stalled_body
                    self.assertIn((method, path, status), self.checked)

    def _backends(self):
        self.call('get', '/v1/backends')
        self.call('get', '/v1/backends', '/v1/backends?host=node1')
        self.call('get', '/v1/backends', '/v1/backends?x=1')
        t = '/v1/backends/{backend}'
        self.call('get', t, '/v1/backends/file1')
        self.call('get', t, '/v1/backends/dead')
        self.call('get', t, '/v1/backends/nope')
        self.call('get', t, '/v1/backends/file1?x=1')

    def _volumes(self):
        t, item = '/v1/volumes', '/v1/volumes/{volume_id}'
        created = self.call('post', t, body={'volume': {
            'size': 512, 'backend': 'file1', 'name': 'n'}}).json['volume']
        self.call('post', t, body={'volume': {'size': 1}})
        self.call('post', t, body={'volume': {'size': 512, 'backend': 'x'}})
        self.call('post', t, body={'volume': {'size': 512,
                                              'backend': 'dead'}})
        self.call('post', t, body=b'size=1', content_type='text/plain')
        vol = self.make_volume()
        self.make_volume(hidden=True, location={'driver_volume_type': 'file',
                                                'data': {'path': '/x'}})
        self.call('get', t, '/v1/volumes?include_hidden=true&limit=2')
        self.call('get', t, '/v1/volumes?migration_status=none')
        self.call('get', t, '/v1/volumes?limit=0')
        self.call('get', item, '/v1/volumes/%s' % vol.id)
        self.call('get', item, '/v1/volumes/%s' % UNKNOWN_ID)
        self.call('get', item, '/v1/volumes/%s?x=1' % vol.id)
        doomed = self.make_volume()
        self.call('delete', item, '/v1/volumes/%s' % doomed.id)
        self.call('delete', item, '/v1/volumes/%s' % created['id'])
        self.call('delete', item, '/v1/volumes/%s' % UNKNOWN_ID)
        self.call('delete', item, '/v1/volumes/%s?x=1' % vol.id)
        return vol.id

    def _migrations(self, vol_id):
        t = '/v1/migrations'
        item = '/v1/migrations/{migration_id}'
        cancel = item + '/cancel'
        mig = self.call('post', t, body={'migration': {
            'volume_id': vol_id, 'backend': 'block1'}}).json['migration']
        self.call('post', t, body={'migration': {
            'volume_id': vol_id, 'backend': 'block1'}})
        self.call('post', t, body={'migration': {'volume_id': 'x'}})
        self.call('post', t, body={'migration': {
            'volume_id': UNKNOWN_ID, 'backend': 'block1'}})
        self.call('post', t, body=b'x', content_type='text/plain')
        db_api.migration_update(mig['id'], {
            'status': states.M_MIGRATING, 'phase': states.P_COPYING,
            'bytes_done': 512, 'rate_bps': 100, 'copy_host': 'node1'})
        self.call('get', t)
        self.call('get', t, '/v1/migrations?status=bad')
        self.call('get', item, '/v1/migrations/%s' % mig['id'])
        self.call('get', item, '/v1/migrations/%s' % UNKNOWN_ID)
        self.call('get', item, '/v1/migrations/%s?x=1' % mig['id'])
        path = '/v1/migrations/%s/cancel' % mig['id']
        self.call('post', cancel, path, body={'x': 1})
        self.call('post', cancel, path, body=b'x', content_type='text/plain')
        self.call('post', cancel, path)
        db_api.migration_update(mig['id'], {'status': states.M_SUCCESS,
                                            'phase': states.P_DONE})
        self.call('post', cancel, path)
        self.call('post', cancel, '/v1/migrations/%s/cancel' % UNKNOWN_ID)

    def _attachments(self):
        t, item = '/v1/attachments', '/v1/attachments/{attachment_id}'
        vol = self.make_volume()

        def body(volume_id=vol.id, instance=base.INSTANCE,
                 host=base.COMPUTE_HOST):
            return {'attachment': {'volume_id': volume_id,
                                   'instance_uuid': instance, 'host': host}}
        att = self.call('post', t, body=body()).json['attachment']
        self.call('post', t, body=body())                     # 409 attaching
        self.call('post', t, body={'attachment': {'volume_id': vol.id}})
        self.call('post', t, body=body(instance=UNKNOWN_ID))  # 404
        self.call('post', t, body=body(host=base.DOWN_COMPUTE_HOST))  # 503
        self.call('post', t, body=b'x', content_type='text/plain')
        self.call('get', t)
        self.call('get', t, '/v1/attachments?volume_id=%s' % vol.id)
        self.call('get', t, '/v1/attachments?volume_id=x')
        path = '/v1/attachments/%s' % att['id']
        self.call('get', item, path)
        self.call('get', item, path + '?x=1')
        self.call('get', item, '/v1/attachments/%s' % UNKNOWN_ID)
        self.call('delete', item, path)                       # 409 attaching
        db_api.attachment_finish(att['id'], True, device='sdb')
        self.call('delete', item, path + '?x=1')
        self.call('delete', item, path)
        self.call('delete', item, '/v1/attachments/%s' % UNKNOWN_ID)

    def _auth_errors(self, vol_id):
        kapp = self.keystone_app()
        no_roles = dict(base.MEMBER_HEADERS, **{'X-Roles': ''})
        invalid = dict(base.MEMBER_HEADERS, **{'X-Identity-Status':
                                               'Invalid'})
        mig = db_api.migration_get_all()[0]
        bodies = {('post', '/v1/volumes'): {'volume': {}},
                  ('post', '/v1/attachments'): {'attachment': {}},
                  ('post', '/v1/migrations'): {'migration': {}},
                  ('post', '/v1/migrations/{migration_id}/cancel'): {}}
        ids = {'volume_id': vol_id, 'migration_id': mig.id,
               'backend': 'file1', 'attachment_id': UNKNOWN_ID}
        for path, item in self.spec['paths'].items():
            concrete = re.sub(r'{(\w+)}', lambda m: ids[m.group(1)], path)
            for method in item:
                if method not in METHODS:
                    continue
                for headers in (no_roles, invalid):
                    body = copy.deepcopy(bodies.get((method, path)))
                    resp = self.call(method, path, concrete, body=body,
                                     app=kapp, headers=headers)
                    if path not in ('/', '/v1'):
                        self.assertIn(resp.status_int, (401, 403))
