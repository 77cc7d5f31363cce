"""Hosts as network namespaces for the data path tests, each with its
own x509 credentials, and volume workers serving backends on them.

Each test takes a slot of its own (a lock file): subnet ``10.78.<slot>``
and namespaces ``mb1<slot>-<host>``, so that the test workers running
at once never share an address, a bridge or a namespace.  The volume
workers run in the test process (the fake transport does not cross
processes) with a configuration of their own each; the daemons serving
their exports run inside their host's namespace and listen on its
address, so that every byte a copy reads from another host crosses the
namespace boundary over NBD with TLS.
"""

import fcntl
import os

import fixtures
from oslo_config import cfg

from migrator_api import conf as mconf
from migrator_api.conf import backend as backend_conf
from migrator_testing import netns
from migrator_testing import pki

SLOTS = 16
LOCKS = '/tmp/migrator-datapath-slot-%d.lock'


class Slot(fixtures.Fixture):
    """An exclusive slot number, held until cleanup."""

    def _setUp(self):
        for slot in range(SLOTS):
            fd = os.open(LOCKS % slot, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self.addCleanup(os.close, fd)
            self.number = slot
            return
        raise RuntimeError('all %d data path test slots are taken' % SLOTS)


class Hosts(fixtures.Fixture):
    """A network of hosts ``names`` and a CA; each host's credentials in
    ``tls_dir(name)``.  ``outside`` names credentials of hosts with no
    namespace (a client that is not allowed, the root namespace)."""

    def __init__(self, directory, names, outside=()):
        super().__init__()
        self.directory = directory
        self.names = list(names)
        self.outside = list(outside)

    def _setUp(self):
        slot = self.useFixture(Slot()).number
        self.net = netns.Network('mb1%d' % slot, '10.78.%d' % slot)
        self.addCleanup(self.net.remove)
        self.net.up()
        self.ca = pki.CA(os.path.join(self.directory, 'ca')).create()
        self.hosts = {}
        for name in self.names:
            host = self.net.add_host(name)
            self.ca.issue(name, host.address, self.tls_dir(name))
            self.hosts[name] = host
        for name in self.outside:
            self.ca.issue(name, self.net.gateway, self.tls_dir(name))

    def tls_dir(self, name):
        return os.path.join(self.directory, 'tls-%s' % name)

    def address(self, name):
        return self.hosts[name].address


def worker_conf(state_path, host, backends, nbd=None, interval=1,
                bps_limit=0):
    """A configuration of its own for the volume worker of ``host``:
    ``backends`` {name: options}, ``nbd`` the [nbd] options (None: not
    enabled)."""
    conf = cfg.ConfigOpts()
    mconf.register_opts(conf)
    conf([], project='migrator', default_config_files=[])
    os.makedirs(state_path, exist_ok=True)
    conf.set_override('host', host)
    conf.set_override('state_path', state_path)
    conf.set_override('enabled_backends', list(backends), group='volume')
    conf.set_override('migration_progress_report_interval', interval,
                      group='volume')
    conf.set_override('volume_copy_bps_limit', bps_limit, group='volume')
    for name, opts in backends.items():
        backend_conf.register_backend_opts(conf, name)
        opts = dict(opts)
        if opts.get('backend_type', 'file') == 'file':
            opts.setdefault('file_path', os.path.join(state_path, name))
        for key, value in opts.items():
            conf.set_override(key, value, group=name)
    for key, value in (nbd or {}).items():
        conf.set_override(key, value, group='nbd')
    return conf


def nbd_options(hosts, name, **extra):
    """The [nbd] options of host ``name`` of ``hosts``."""
    opts = {'enabled': True, 'listen_address': hosts.address(name),
            'tls_dir': hosts.tls_dir(name)}
    opts.update(extra)
    return opts
