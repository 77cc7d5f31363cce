"""In-process API on a per-test SQLite file and the fake transport.

The conductor does not run: casts go out to a topic nobody serves,
which the fake transport accepts without blocking.
"""

import datetime

import oslo_messaging as messaging
from oslo_messaging import conffixture
import webtest

from migrator_api.api import app
from migrator_api.common import exception
from migrator_api.common import rpc
from migrator_api.common import service
from migrator_api.common import states
from migrator_api.conductor import api as conductor_api
from migrator_api.db import api as db_api
from migrator_api.db import migration
from migrator_api.db import models
from migrator_api import policy
from tests import base

GIB = 1024 ** 3

# file1 and block1 share a volume worker (a migration between them has
# a data path); remote1 is served by another host's worker.
BACKENDS = {
    'node1': [{'name': 'file1', 'backend_type': 'file',
               'capabilities': {'migration_progress_report': True},
               'total_capacity_bytes': 100 * GIB,
               'free_capacity_bytes': 50 * GIB},
              {'name': 'block1', 'backend_type': 'block',
               'capabilities': {'migration_progress_report': False},
               'total_capacity_bytes': 20 * GIB,
               'free_capacity_bytes': 4 * GIB}],
    'node2': [{'name': 'remote1', 'backend_type': 'file',
               'capabilities': {'migration_progress_report': True},
               'total_capacity_bytes': 10 * GIB,
               'free_capacity_bytes': 10 * GIB}],
}

ADMIN_HEADERS = {'X-Identity-Status': 'Confirmed', 'X-User-Id': 'u-admin',
                 'X-Project-Id': 'p-admin', 'X-Roles': 'admin,member,reader'}
MEMBER_HEADERS = {'X-Identity-Status': 'Confirmed', 'X-User-Id': 'u-alice',
                  'X-Project-Id': 'p-alice', 'X-Roles': 'member,reader'}
OTHER_HEADERS = {'X-Identity-Status': 'Confirmed', 'X-User-Id': 'u-bob',
                 'X-Project-Id': 'p-bob', 'X-Roles': 'member,reader'}


INSTANCE = '5d8e0a43-8a3c-4f43-9d0b-8c5f6f2b9a10'
COMPUTE_HOST = 'node1'
DOWN_COMPUTE_HOST = 'node9'


class StubCompute:
    """A compute agent on COMPUTE_HOST that knows one instance."""

    target = messaging.Target(version='1.0')

    def get_instance(self, ctxt, instance_uuid):
        if instance_uuid != INSTANCE:
            raise exception.InstanceNotFound(instance=instance_uuid,
                                             host=COMPUTE_HOST)
        return {'uuid': INSTANCE, 'name': 'vm', 'power_state': 'running'}


class APITestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(conffixture.ConfFixture(self.conf,
                                                transport_url='fake:/'))
        self.flags(connection='sqlite:///%s/migrator.sqlite'
                   % self.state_path, group='database')
        self.flags(driver=['test'], group='oslo_messaging_notifications')
        self.flags(auth_strategy='noauth', group='api')
        db_api.configure(self.conf)
        self.addCleanup(db_api.dispose)
        migration.upgrade()
        rpc.init(self.conf)
        self.addCleanup(rpc.cleanup)
        policy.reset()
        self.addCleanup(policy.reset)
        for host, reports in BACKENDS.items():
            db_api.backend_sync(host, reports)
            db_api.service_report(host, states.BINARY_VOLUME)
        db_api.service_report(COMPUTE_HOST, states.BINARY_COMPUTE)
        db_api.service_report(DOWN_COMPUTE_HOST, states.BINARY_COMPUTE)
        with db_api.writer() as session:
            session.query(models.Service).filter_by(
                host=DOWN_COMPUTE_HOST).update(
                    {'last_seen_at': datetime.datetime(2000, 1, 1)})
        compute = service.Service(rpc.COMPUTE_TOPIC, COMPUTE_HOST,
                                  StubCompute())
        compute.start()
        self.addCleanup(compute.stop)
        self.file1 = db_api.backend_get('file1')
        self.block1 = db_api.backend_get('block1')
        self.app = webtest.TestApp(app.setup_app(self.conf))

    def keystone_app(self):
        """The app with keystone auth; identity taken from the headers."""
        self.flags(auth_strategy='keystone', group='api')
        try:
            return webtest.TestApp(app.setup_app(self.conf,
                                                 authenticate=False))
        finally:
            self.flags(auth_strategy='noauth', group='api')

    def make_volume(self, backend='file1', status=states.AVAILABLE,
                    project_id='admin', size=GIB, **values):
        values.update(backend_id=db_api.backend_get(backend).id,
                      status=status, project_id=project_id, size=size)
        return db_api.volume_create(values)

    def make_migration(self, volume, backend='block1', force=False,
                       **values):
        """A migration recorded as the API records an admitted one."""
        mig = conductor_api.record_migration(
            conductor_api.migration_facts(volume.id, backend), force)
        if values:
            db_api.migration_update(mig.id, values)
        return db_api.migration_get(mig.id)

    def db_state(self):
        """Every row of every table, to prove a request changed nothing."""
        state = {}
        with db_api.get_engine().connect() as conn:
            for table in models.Base.metadata.sorted_tables:
                rows = conn.execute(table.select()).mappings().all()
                state[table.name] = sorted(
                    (sorted((k, str(v)) for k, v in row.items())
                     for row in rows))
        return state

    def casts(self):
        """(method, args) cast to the conductor and not yet consumed.

        Read from the fake transport's queue: nothing serves the topic.
        """
        exchange = rpc.TRANSPORT._driver._exchange_manager.get_exchange(
            'migrator')
        queue = exchange._topic_queues.get((rpc.CONDUCTOR_TOPIC, None), [])
        return [(msg['method'], msg['args']) for _ctxt, msg, _r, _q in queue]

    def assertError(self, resp, status, code=None, detail_contains=()):
        """An API-SIG error body with ``status`` and a useful detail."""
        self.assertEqual(status, resp.status_int, resp.text)
        self.assertEqual('application/json', resp.content_type)
        self.assertTrue(resp.headers.get('X-OpenStack-Request-Id'))
        errors = resp.json['errors']
        self.assertEqual(1, len(errors))
        err = errors[0]
        self.assertEqual({'status', 'code', 'title', 'detail', 'request_id'},
                         set(err))
        self.assertEqual(status, err['status'])
        self.assertEqual(resp.headers['X-OpenStack-Request-Id'],
                         err['request_id'])
        if code:
            self.assertEqual(code, err['code'])
        if isinstance(detail_contains, str):
            detail_contains = (detail_contains,)
        for text in detail_contains:
            self.assertIn(text, err['detail'])
        self.assertNotIn('Traceback', resp.text)
        return err

    def assertRejected(self, method, path, status, code=None, detail=(),
                       body=None, app=None, **kwargs):
        """The request fails with ``status``, changing and casting nothing.

        ``body``: a dict/list sent as JSON, or bytes/str sent as is with
        ``content_type`` (default application/json).
        """
        app = app or self.app
        before, casts = self.db_state(), self.casts()
        if body is None:
            resp = getattr(app, method)(path, expect_errors=True, **kwargs)
        elif isinstance(body, (dict, list)):
            resp = getattr(app, method + '_json')(path, body,
                                                  expect_errors=True,
                                                  **kwargs)
        else:
            kwargs.setdefault('content_type', 'application/json')
            resp = getattr(app, method)(path, body, expect_errors=True,
                                        **kwargs)
        err = self.assertError(resp, status, code, detail)
        self.assertEqual(before, self.db_state(), 'the database changed')
        self.assertEqual(casts, self.casts(), 'something was cast')
        return err
