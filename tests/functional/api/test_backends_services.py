"""/v1/backends and /v1/services."""

import datetime

from oslo_utils import timeutils

from migrator_api.common import states
from migrator_api.db import api as db_api
from migrator_api.db import models
from tests.functional.api import base

BAD = 'migrator.invalid_input'


class BackendsTest(base.APITestCase):

    def test_list(self):
        backends = self.app.get('/v1/backends').json['backends']
        self.assertEqual(['block1', 'file1', 'remote1'],
                         [b['name'] for b in backends])
        file1 = backends[1]
        self.assertEqual(self.file1.id, file1['id'])
        self.assertEqual('node1', file1['host'])
        self.assertEqual('file', file1['backend_type'])
        self.assertEqual({'migration_progress_report': True},
                         file1['capabilities'])
        self.assertEqual(100 * base.GIB, file1['total_capacity_bytes'])
        self.assertEqual(50 * base.GIB, file1['free_capacity_bytes'])
        self.assertEqual('up', file1['state'])

    def test_filters(self):
        def names(query):
            return [b['name'] for b in
                    self.app.get('/v1/backends' + query).json['backends']]
        self.assertEqual(['remote1'], names('?host=node2'))
        self.assertEqual(['block1', 'file1'], names('?host=node1'))
        self.assertEqual(['file1', 'remote1'], names('?backend_type=file'))
        self.assertEqual([], names('?host=node9'))

    def test_show_by_name_and_id(self):
        by_name = self.app.get('/v1/backends/block1').json['backend']
        by_id = self.app.get('/v1/backends/%s' % self.block1.id).json
        self.assertEqual(by_name, by_id['backend'])
        self.assertEqual({'migration_progress_report': False},
                         by_name['capabilities'])

    def test_down_when_worker_silent(self):
        db_api.backend_sync('node3', [{'name': 'quiet',
                                       'backend_type': 'block'}])
        shown = self.app.get('/v1/backends/quiet').json['backend']
        self.assertEqual('down', shown['state'])
        self.assertEqual({'migration_progress_report': False},
                         shown['capabilities'])
        self.assertIsNone(shown['total_capacity_bytes'])

    def test_show_unknown(self):
        self.assertRejected('get', '/v1/backends/nope', 404,
                            'migrator.backend_not_found', 'Backend nope')

    def test_bad_query(self):
        self.assertRejected('get', '/v1/backends?name=file1', 400, BAD,
                            "unknown query parameter 'name'")
        self.assertRejected('get', '/v1/backends/file1?x=1', 400, BAD,
                            "unknown query parameter 'x'")

    def test_wrong_method(self):
        self.assertRejected('post', '/v1/backends', 405,
                            'migrator.method_not_allowed', 'allowed: GET',
                            body={'backend': {}})
        self.assertRejected('delete', '/v1/backends/file1', 405,
                            'migrator.method_not_allowed', 'allowed: GET')


class ServicesTest(base.APITestCase):

    def test_list(self):
        services = self.app.get('/v1/services').json['services']
        self.assertEqual([('node1', states.BINARY_VOLUME, 'up'),
                          ('node2', states.BINARY_VOLUME, 'up'),
                          ('node1', states.BINARY_COMPUTE, 'up'),
                          ('node9', states.BINARY_COMPUTE, 'down')],
                         [(s['host'], s['binary'], s['state'])
                          for s in services])
        self.assertTrue(services[0]['last_seen_at'].endswith('Z'))
        self.assertFalse(services[0]['disabled'])

    def test_down(self):
        old = timeutils.utcnow() - datetime.timedelta(seconds=3600)
        with db_api.writer() as session:
            session.query(models.Service).filter_by(
                host='node2').update({'last_seen_at': old})
        services = self.app.get('/v1/services?host=node2').json['services']
        self.assertEqual(['down'], [s['state'] for s in services])
        backend = self.app.get('/v1/backends/remote1').json['backend']
        self.assertEqual('down', backend['state'])

    def test_filter_binary(self):
        db_api.service_report('cmp1', states.BINARY_COMPUTE)
        services = self.app.get('/v1/services?binary=migrator-compute').json
        self.assertEqual(['node1', 'node9', 'cmp1'],
                         [s['host'] for s in services['services']])

    def test_bad_query(self):
        self.assertRejected('get', '/v1/services?binary=nova-compute', 400,
                            BAD, "query parameter binary: 'nova-compute'")
        self.assertRejected('get', '/v1/services?state=up', 400, BAD,
                            "unknown query parameter 'state'")

    def test_wrong_method(self):
        self.assertRejected('delete', '/v1/services', 405,
                            'migrator.method_not_allowed', 'allowed: GET')
