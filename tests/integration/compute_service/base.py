"""The compute agent as a service: its RPC server over the real
oslo.messaging fake transport, a stub conductor endpoint recording what
the agent reports, and the real libvirtd domains of the compute driver
tests (whose helpers these tests share)."""

import os
import threading
import uuid as uuid_mod

import oslo_messaging as messaging

from migrator_api.common import context
from migrator_api.common import rpc
from migrator_api.common import service
from migrator_api.rpcapi import compute as compute_rpcapi
from migrator_compute import manager
from tests.integration.compute import base as compute_base
from tests.integration import fixtures_libvirt as fl
from tests.unit.volume import base as volume_base

HOST = 'cmphost'
#: Hang guard of every wait (never asserted as a duration).
WAIT = 120


class StubConductor:
    """Records the agent's heartbeats, migration ends and overlay
    reports."""
    target = messaging.Target(version='1.1')

    def __init__(self):
        self.states = []
        self.finished = []
        self.overlays = []
        self._cond = threading.Condition()

    def report_state(self, ctxt, host, binary, backends=None):
        with self._cond:
            self.states.append((host, binary, backends))
            self._cond.notify_all()

    def compute_migration_finished(self, ctxt, migration_id, operation,
                                   error=None):
        with self._cond:
            self.finished.append((migration_id, operation, error))
            self._cond.notify_all()

    def overlay_progress(self, ctxt, migration_id, overlay_bytes,
                         error=None):
        with self._cond:
            self.overlays.append((migration_id, overlay_bytes, error))
            self._cond.notify_all()

    def wait_for(self, predicate, timeout=WAIT):
        with self._cond:
            self._cond.wait_for(predicate, timeout)
            return predicate()

    def reports(self, migration_id):
        with self._cond:
            return [f[1:] for f in self.finished if f[0] == migration_id]

    def wait_report(self, test, migration_id):
        """The first end reported for the migration: (operation, error)."""
        test.assertTrue(self.wait_for(lambda: self.reports(migration_id)),
                        'migration %s never reported' % migration_id)
        return self.reports(migration_id)[0]


class ServiceMixin(object):
    """Messaging, the stub conductor, and compute services to start."""

    def setup_messaging(self):
        self.flags(host=HOST)
        self.useFixture(volume_base.MessagingFixture(self.conf))
        self.conductor = StubConductor()
        server = rpc.get_server(rpc.CONDUCTOR_TOPIC, 'conductor',
                                [self.conductor])
        server.start()
        self.addCleanup(server.wait)
        self.addCleanup(server.stop)
        self.api = compute_rpcapi.ComputeAPI(timeout=WAIT)
        self.ctxt = context.get_admin_context()

    def start_service(self, driver=None, report_interval=None):
        """A compute agent serving HOST: ``driver`` given, or loaded
        from ``[compute] driver`` by init_host (recovery runs there)."""
        svc = service.Service(
            rpc.COMPUTE_TOPIC, HOST,
            manager.ComputeManager(HOST, self.conf, driver=driver),
            report_interval=report_interval)
        svc.start()
        self.addCleanup(svc.stop)
        return svc

    def migration_records(self):
        """The manager's migration-id records still on disk."""
        path = os.path.join(self.conf.compute.journal_path, 'migrations')
        return sorted(os.listdir(path))


class ComputeServiceTestCase(ServiceMixin, compute_base.LibvirtTestCase):
    """Real libvirt domains driven through migrator_compute.compute_rpcapi.

    ``self.driver`` (from the compute driver tests) is a second driver
    on the agent's journal: the tests only read through it."""

    def setUp(self):
        super().setUp()
        self.setup_messaging()

    def attach_rpc(self, uuid, volume):
        aid = str(uuid_mod.uuid4())
        info = self.api.attach_volume(self.ctxt, HOST, uuid, aid,
                                      volume.connection_info)
        self.assertEqual('scsi', info['bus'])
        return aid, info['target']

    def writing_disk(self, uuid, src_kind, dst_kind, seed):
        """An attached source (guest writer started), an empty
        destination; returns (aid, target, src, dst, model, writer)."""
        src = self.lv.make_volume(src_kind, size=4 * fl.MiB)
        dst = self.lv.make_volume(dst_kind, size=src.size,
                                  data=bytes(src.size))
        aid, target = self.attach_rpc(uuid, src)
        model = bytearray(src.read())
        w = self.writer(uuid, target, model, seed=seed)
        w.phase_fn = lambda: self.driver.migration_state(aid)
        self.write_some(w, uuid)                      # before
        w.start()
        w.wait_for(3)
        return aid, target, src, dst, model, w

    def finish_writes(self, w, uuid, target):
        w.wait_for(3)
        w.stop()
        self.flush(uuid, target)
