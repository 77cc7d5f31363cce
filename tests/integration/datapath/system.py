"""The storage side spread over hosts, in one test process.

The functional tests' API (webtest) and conductor (SQLite), and one
volume worker per host, each with a configuration of its own, over the
real oslo.messaging fake transport; each worker's export daemons run
inside its host's network namespace.  A compute agent stub on host ``cmp1``
(optional) reads what it is given over NBD with that host's
credentials, as QEMU would.
"""

import os
import threading

import oslo_messaging as messaging

from migrator_api.common import context
from migrator_api.common import rpc
from migrator_api.common import service
from migrator_api.common import states
from migrator_api.db import api as db_api
from migrator_api.rpcapi import conductor as conductor_rpcapi
from migrator_api.rpcapi import payloads
from migrator_volume import manager as volume_manager
from tests.functional import fixtures as sysfix
from tests.functional.flows import base as flows_base
from tests.integration.datapath import base
from tests.integration.datapath import fixtures as dfix

COMPUTE = 'cmp1'
INSTANCE = '6f1c8b0e-2d47-4a43-9a57-3b8d1e9c0a21'


class StubCompute:
    """A compute agent that opens what it is given as QEMU would (an nbd
    location over TLS with its host's credentials) and keeps it."""

    target = messaging.Target(version='1.1')

    def __init__(self, host, tls_dir):
        self.host = host
        self.tls_dir = tls_dir
        self.attached = {}
        self.completed = []
        self.conductor = conductor_rpcapi.ConductorAPI()

    def report_state(self):
        self.conductor.report_state(context.get_admin_context(), self.host,
                                    states.BINARY_COMPUTE)

    def _open(self, location):
        """The first 4 KiB of what ``location`` names."""
        if payloads.is_nbd(location):
            handle = base.connect(location, self.tls_dir)
            try:
                return handle.pread(4096, 0)
            finally:
                handle.shutdown()
        with open(payloads.location_path(location)[1], 'rb') as f:
            return f.read(4096)

    def get_instance(self, ctxt, instance_uuid):
        return {'uuid': instance_uuid, 'name': 'vm',
                'power_state': 'running'}

    def attach_volume(self, ctxt, instance_uuid, attachment_id,
                      connection_info):
        self.attached[attachment_id] = (connection_info,
                                        self._open(connection_info))
        return {'target': 'vdb', 'bus': 'virtio'}

    def detach_volume(self, ctxt, instance_uuid, attachment_id):
        self.attached.pop(attachment_id, None)

    def volume_migration_start(self, ctxt, instance_uuid, attachment_id,
                               migration_id=None):
        return {'mode': 'offline'}

    def volume_migration_cancel(self, ctxt, instance_uuid, attachment_id,
                                migration_id):
        self.conductor.compute_migration_finished(ctxt, migration_id,
                                                  'cancel')

    def volume_migration_complete(self, ctxt, instance_uuid,
                                  src_attachment_id, dst_attachment_id,
                                  dst_connection_info, migration_id):
        self.completed.append((dst_connection_info,
                               self._open(dst_connection_info)))
        self.attached[dst_attachment_id] = self.attached.pop(
            src_attachment_id, (dst_connection_info, None))
        threading.Timer(0.2, self.conductor.compute_migration_finished,
                        (ctxt, migration_id, 'complete')).start()
        return {'target': 'vdb'}


class System(sysfix.System):
    """The functional tests' API and conductor (their own volume worker
    serves no backend), and the volume workers of hosts.

    :param workers: {host: backends} ({name: options}); a host of
        ``hosts`` (a fixtures.Hosts) or not (then without [nbd]).
    :param nbd: the hosts whose workers have [nbd] enabled (default:
        every host of ``hosts``).
    :param compute: the hosts of compute agent stubs (``computes``).
    """

    def __init__(self, test, hosts, workers, nbd=None, interval=1,
                 bps_limit=0, compute=()):
        super().__init__(test, interval=interval, bps_limit=bps_limit)
        self.backends = {}
        self.hosts = hosts
        self.host_backends = workers
        self.nbd = set(hosts.hosts if nbd is None else nbd)
        self.compute_hosts = tuple(compute)
        self.computes = {}
        self.workers = {}
        self.services = {}

    def _setUp(self):
        super()._setUp()
        for host in self.host_backends:
            self.start_worker(host)
        for host in self.compute_hosts:
            self.computes[host] = StubCompute(host, self.hosts.tls_dir(host))
            self._start(service.Service(rpc.COMPUTE_TOPIC, host,
                                        self.computes[host],
                                        report_interval=1))
        count = sum(len(b) for b in self.host_backends.values())
        self.wait_for(lambda: len(db_api.backend_get_all()) == count,
                      'backends reported')

    def start_worker(self, host, **nbd_extra):
        """Start (or start again) the volume worker of ``host``."""
        nbd = (dfix.nbd_options(self.hosts, host, **nbd_extra)
               if host in self.nbd else None)
        conf = dfix.worker_conf(
            os.path.join(self.test.state_path, host), host,
            self.host_backends[host], nbd, interval=self.interval,
            bps_limit=self.bps_limit)
        worker = volume_manager.VolumeManager(host=host, conf=conf)
        if host in self.hosts.hosts:
            worker.exports.prefix = tuple(self.hosts.hosts[host].cmd([]))
        self.workers[host] = worker
        self.services[host] = self._start(service.Service(
            rpc.VOLUME_TOPIC, host, worker, report_interval=1))
        return worker

    def crash_worker(self, host):
        """The worker's process dies: its copies stop, it reports
        nothing more, and the daemons of its exports live on."""
        worker = self.workers[host]
        dead = flows_base._Unreachable()
        worker._conductor = dead
        for job in list(worker._jobs.values()):
            job.reporter = dead
        worker.exports.stop_idle = lambda: None
        self.services[host].stop()
