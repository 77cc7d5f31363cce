"""Starting the API, the conductor and the agents inside one process."""

import threading

from oslo_log import log as logging

from migrator_api.common import rpc
from migrator_api.common import service
from migrator_api.common import threads

LOG = logging.getLogger(__name__)


class Runner:

    def __init__(self, conf, stop_signal):
        self.conf = conf
        self.services = []
        self.httpd = None
        self._stop_signal = stop_signal
        rpc.init(conf)

    def start_conductor(self, configure_db=True):
        """The conductor: its RPC endpoint, heartbeat and watchdog."""
        from migrator_api.conductor import manager
        from migrator_api.db import api as db_api

        if configure_db:
            db_api.configure(self.conf)
        interval = self.conf.volume.report_interval
        if self.conf.conductor.claim_timeout < 2 * interval:
            LOG.warning('[conductor] claim_timeout (%d s) is shorter than '
                        'two heartbeats ([volume] report_interval = %d '
                        's): other conductors may take over migrations '
                        'this one still drives',
                        self.conf.conductor.claim_timeout, interval)
        mgr = manager.ConductorManager(self.conf.host)
        self._start(service.Service(
            rpc.CONDUCTOR_TOPIC, self.conf.host, mgr,
            report_interval=interval, report=mgr.heartbeat))

    def start_api_side(self, sync_db=False):
        """The API (built-in server) and, unless ``[conductor] enabled``
        is false, the conductor: migrator-all."""
        from migrator_api.api import app as api_app
        from migrator_api.cmd import wsgi_server
        from migrator_api.db import api as db_api
        from migrator_api.db import migration

        db_api.configure(self.conf)
        if sync_db:
            migration.upgrade()
        if self.conf.conductor.enabled:
            self.start_conductor(configure_db=False)
        api = self.conf.api
        app = api_app.setup_app(
            self.conf, slots=threading.BoundedSemaphore(api.workers))
        self.httpd = wsgi_server.make_server(
            api.host_ip, api.port, app, api.max_connections,
            api.client_socket_timeout)
        threads.spawn('wsgi-server', self.httpd.serve_forever)
        LOG.info('migrator API listening on http://%s:%s/',
                 self.conf.api.host_ip, self.httpd.server_port)

    def start_volume(self):
        from migrator_volume import manager
        self._start(service.Service(
            rpc.VOLUME_TOPIC, self.conf.host,
            manager.VolumeManager(host=self.conf.host, conf=self.conf),
            report_interval=self.conf.volume.report_interval))

    def start_compute(self):
        """Start the compute agent; False (and why, logged) if it cannot
        run here (no libvirt, libvirtd not running)."""
        from migrator_compute.drivers import base as driver_base
        from migrator_compute import manager
        try:
            if self.conf.compute.driver.startswith('libvirt'):
                import libvirt
                libvirt.open(self.conf.compute.libvirt_uri).close()
            driver = driver_base.load_driver(self.conf)
        except Exception as exc:
            LOG.warning('No compute agent in this process: the %s driver '
                        'cannot run here (%s)', self.conf.compute.driver, exc)
            return False
        self._start(service.Service(
            rpc.COMPUTE_TOPIC, self.conf.host,
            manager.ComputeManager(host=self.conf.host, conf=self.conf,
                                   driver=driver),
            report_interval=self.conf.volume.report_interval))
        return True

    def _start(self, svc):
        svc.start()
        self.services.append(svc)

    def stop(self):
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
        for svc in reversed(self.services):
            try:
                svc.stop()
            except Exception:
                LOG.exception('Stopping %s failed', svc.topic)
        self.services = []
        rpc.cleanup()

    def run_until_signalled(self):
        """Serve until SIGTERM or SIGINT (also one that came during the
        start), then stop everything; exit status 0."""
        self._stop_signal.wait()
        LOG.info('Stopping')
        self.stop()
        return 0
