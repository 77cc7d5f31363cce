"""Scaffolding of the data path tests: volume workers of hosts (network
namespaces), NBD clients with a host's credentials, daemons counted."""

import os
import subprocess

import nbd

from migrator_volume import manager as volume_manager
from tests import base
from tests.integration.datapath import fixtures as dfix

MiB = 1024 * 1024
DAEMON = 'qemu-storage-daemon'


class Reporter:
    """What a worker tells the conductor, kept (no conductor runs)."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        def _record(ctxt, *args, **kwargs):
            self.calls.append((name, args, kwargs))
        return _record


def connect(location, tls_dir):
    """An NBD connection to an export with the credentials of tls_dir."""
    data = location['data']
    handle = nbd.NBD()
    handle.set_tls(nbd.TLS_REQUIRE)
    handle.set_tls_certificates(tls_dir)
    handle.set_export_name(data['export'])
    handle.connect_tcp(data['host'], str(data['port']))
    return handle


def daemons(host):
    """Pids of the export daemons running in ``host``'s namespace."""
    out = subprocess.run(['ip', 'netns', 'pids', host.namespace],
                         capture_output=True, text=True).stdout.split()
    found = []
    for pid in out:
        try:
            with open('/proc/%s/comm' % pid) as f:
                if f.read().strip() == DAEMON[:15]:   # comm is cut
                    found.append(int(pid))
        except OSError:
            pass
    return found


class DataPathTestCase(base.TestCase):
    """Hosts vol1 and vol2 (and the credentials of an outsider, evil)."""

    HOSTS = ('vol1', 'vol2')
    OUTSIDE = ('evil',)

    def setUp(self):
        super().setUp()
        self.hosts = self.useFixture(dfix.Hosts(
            os.path.join(self.state_path, 'pki'), self.HOSTS, self.OUTSIDE))

    def worker(self, host, backends=None, start=True, nbd_enabled=True,
               state=None, **nbd_extra):
        """A volume worker of ``host`` (its own state path and file
        backend ``f-<host>`` unless ``backends`` says otherwise), with
        its daemons run inside the host, not yet serving RPC."""
        backends = backends or {'f-%s' % host: {'backend_type': 'file'}}
        nbd_opts = (dfix.nbd_options(self.hosts, host, **nbd_extra)
                    if nbd_enabled else None)
        conf = dfix.worker_conf(os.path.join(self.state_path,
                                             state or host),
                                host, backends, nbd_opts)
        worker = volume_manager.VolumeManager(host=host, conf=conf)
        worker.exports.prefix = tuple(self.hosts.hosts[host].cmd([]))
        worker._conductor = Reporter()
        if start:
            worker.init_host()
        return worker

    def assert_no_daemons(self):
        for host in self.hosts.hosts.values():
            self.assertEqual([], daemons(host), host)

    @staticmethod
    def pattern(size, seed=1):
        block = bytes((seed * 7 + i) % 251 + 1 for i in range(4096))
        return (block * (size // len(block) + 1))[:size]
