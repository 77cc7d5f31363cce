"""Rendering of every kind of error in the API-SIG shape."""

import json

import webob.exc

from migrator_api.api import errors
from migrator_api.common import exception
from tests import base

ENVIRON = {'REQUEST_METHOD': 'GET', 'PATH_INFO': '/v1/x',
           'openstack.request_id': 'req-1'}


class RenderTest(base.TestCase):

    def render(self, exc):
        resp = errors.render(exc, dict(ENVIRON))
        self.assertEqual('application/json', resp.content_type)
        return resp, json.loads(resp.text)['errors'][0]

    def test_migrator_exception(self):
        resp, err = self.render(exception.VolumeNotFound(volume_id='v'))
        self.assertEqual(404, resp.status_int)
        self.assertEqual({'status': 404, 'code': 'migrator.volume_not_found',
                          'title': 'Not found',
                          'detail': 'Volume v could not be found.',
                          'request_id': 'req-1'}, err)

    def test_migrator_server_error_keeps_message(self):
        resp, err = self.render(exception.ServiceUnavailable(
            service='conductor', reason='down'))
        self.assertEqual(503, resp.status_int)
        self.assertEqual('migrator.service_unavailable', err['code'])

    def test_webob_error(self):
        resp, err = self.render(webob.exc.HTTPNotFound())
        self.assertEqual('No resource at /v1/x.', err['detail'])
        self.assertEqual('migrator.not_found', err['code'])

    def test_method_not_allowed(self):
        resp, err = self.render(webob.exc.HTTPMethodNotAllowed(
            headers={'Allow': 'GET'}))
        self.assertEqual('GET', resp.headers['Allow'])
        self.assertEqual('Method GET is not allowed on /v1/x; allowed: GET.',
                         err['detail'])

    def test_unauthorized_keeps_challenge(self):
        resp, err = self.render(webob.exc.HTTPUnauthorized(
            detail='no token', headers={'WWW-Authenticate': 'Keystone'}))
        self.assertEqual('Keystone', resp.headers['WWW-Authenticate'])
        self.assertEqual('no token', err['detail'])

    def test_unexpected(self):
        resp, err = self.render(KeyError('password=secret'))
        self.assertEqual(500, resp.status_int)
        self.assertEqual('migrator.internal', err['code'])
        self.assertNotIn('secret', resp.text)
        self.assertIn('req-1', err['detail'])

    def test_fault_wrapper(self):
        def broken(environ, start_response):
            raise ValueError('boom')
        statuses = []
        body = errors.FaultWrapper(broken)(
            dict(ENVIRON), lambda status, headers: statuses.append(status))
        self.assertEqual(['500 Internal Server Error'], statuses)
        self.assertIn(b'"status": 500', b''.join(body))
