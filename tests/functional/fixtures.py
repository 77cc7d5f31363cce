"""The whole storage side in one test process.

The real pecan app (driven through webtest), the conductor and a volume
worker with real file (and optionally block) backends, over the real
oslo.messaging fake transport, on a per-test SQLite database.  Nothing
in the flow is mocked.
"""

import os
import time

import fixtures
from oslo_messaging.notify import _impl_test as test_notifier
import webtest

from migrator_api.api import app as api_app
from migrator_api.common import config
from migrator_api.common import rpc
from migrator_api.common import service
from migrator_api.conductor import manager as conductor_manager
from migrator_api.conductor import migrate
from migrator_api.conf import backend as backend_conf
from migrator_api.db import api as db_api
from migrator_api.db import migration
from migrator_volume import manager as volume_manager

HOST = 'testhost'


class System(fixtures.Fixture):
    """Start API, conductor and volume worker; stop them on cleanup.

    ``backends`` maps a backend name to its options, e.g.
    {'file1': {'backend_type': 'file'}, 'blk': {'backend_type': 'block',
    'block_devices': [...]}}; file backends default to a directory under
    the test's state path.
    """

    def __init__(self, test, backends=None, interval=1, bps_limit=0,
                 compute=False):
        super().__init__()
        self.compute_enabled = compute
        self.test = test
        self.backends = backends or {'file1': {'backend_type': 'file'},
                                     'file2': {'backend_type': 'file'}}
        self.interval = interval
        self.bps_limit = bps_limit

    def _setUp(self):
        test, conf = self.test, self.test.conf
        config.register_library_opts(conf)
        test.flags(host=HOST)
        test.flags(transport_url='fake:/')
        test.flags(driver=['test'], group='oslo_messaging_notifications')
        test.flags(auth_strategy='noauth', group='api')
        test.flags(connection='sqlite:///%s' % os.path.join(
            test.state_path, 'migrator.sqlite'), group='database')
        test.flags(enabled_backends=list(self.backends), group='volume')
        test.flags(migration_progress_report_interval=self.interval,
                   volume_copy_bps_limit=self.bps_limit,
                   report_interval=1, group='volume')
        test.flags(copy_report_timeout=10, group='conductor')
        for name, opts in self.backends.items():
            backend_conf.register_backend_opts(conf, name)
            opts = dict(opts)
            if opts.get('backend_type', 'file') == 'file':
                opts.setdefault('file_path',
                                os.path.join(test.state_path, name))
            test.flags(group=name, **opts)
        test_notifier.reset()

        db_api.configure(conf)
        migration.upgrade()
        self.addCleanup(db_api.dispose)
        rpc.init(conf)
        self.addCleanup(rpc.cleanup)

        self.conductor = conductor_manager.ConductorManager(HOST)
        self._start(service.Service(rpc.CONDUCTOR_TOPIC, HOST,
                                    self.conductor, report_interval=1,
                                    report=self.conductor.heartbeat))
        self.volume = volume_manager.VolumeManager(host=HOST, conf=conf)
        self._start(service.Service(rpc.VOLUME_TOPIC, HOST, self.volume,
                                    report_interval=1))
        if self.compute_enabled:
            self.start_compute()
        # Runs before the services stop: let running flows settle.
        self.addCleanup(migrate.wait_idle, 30)
        self.app = webtest.TestApp(api_app.setup_app(conf))
        self.wait_for(lambda: len(db_api.backend_get_all()) ==
                      len(self.backends), 'backends reported')

    def _start(self, svc):
        svc.start()
        self.addCleanup(svc.stop)
        return svc

    def start_compute(self):
        """Start (or restart) the compute agent of HOST."""
        from migrator_compute import manager as compute_manager
        self.compute = compute_manager.ComputeManager(host=HOST,
                                                      conf=self.test.conf)
        self.compute_service = self._start(service.Service(
            rpc.COMPUTE_TOPIC, HOST, self.compute, report_interval=1))
        self.wait_for(lambda: db_api.service_get(HOST, 'migrator-compute'),
                      'compute agent reported')

    @staticmethod
    def wait_for(predicate, what, timeout=60, interval=0.1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            time.sleep(interval)
        raise AssertionError('timed out waiting for %s' % what)

    @staticmethod
    def notifications(event_prefix='volume.migration.'):
        """(publisher_id, event_type, payload) of the notifications sent."""
        return [(m['publisher_id'], m['event_type'], m['payload'])
                for _ctxt, m, _prio, _retry in test_notifier.NOTIFICATIONS
                if m['event_type'].startswith(event_prefix)]
