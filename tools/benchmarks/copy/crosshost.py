"""The copy between hosts (``--volumes crosshost``): the same migrator
copy of the dense (and sparse) source, once on one host and once from
another host over NBD with TLS, in the same rounds.

Two hosts as network namespaces on a bridge of their own (``mb1z-*``,
10.78.99.0/24), a CA and each host's x509 credentials.  The source
host's exports are served as the volume worker serves them
(``migrator_volume.exports``: one qemu-storage-daemon per export,
inside the source host, only the destination host's identity allowed);
the destination's worker process runs inside the destination host and
reads the export through the copier ``make_copier`` picks for an
``nbd`` source (copy.nbdio), writing its destination file as the local
copy does.  Both copies are verified byte for byte.
"""

import os

from oslo_config import cfg

from benchmarks.copy import log
from migrator_api import conf as mconf
from migrator_testing import netns
from migrator_testing import pki

PREFIX = 'mb1z'
SUBNET = '10.78.99'
SRC_HOST = 'bench-src'
DST_HOST = 'bench-dst'
#: Contenders of the crosshost scenarios: the copy on one host, and
#: the same copy from another host.
LOCAL = 'migrator'
REMOTE = 'migrator-crosshost'
#: The cross-host copy's throughput must be at least this fraction of
#: the same copy on one host (see doc/source/admin/copy-benchmark.rst).
TARGET_RATIO = 0.5


class CrossHost:
    """The two hosts, their credentials and the source's exports."""

    def __init__(self, directory):
        self.dir = os.path.join(directory, 'crosshost')
        self.net = None
        self.exports = None
        self.locations = {}

    def prepare(self, sources):
        """Make the hosts and export each of ``sources`` {name: path}
        (read-only, to the destination host only)."""
        from migrator_volume import exports as mexports
        self.net = netns.Network(PREFIX, SUBNET).up()
        src = self.net.add_host('src')
        self.dst = self.net.add_host('dst')
        ca = pki.CA(os.path.join(self.dir, 'ca')).create()
        src_tls = ca.issue(SRC_HOST, src.address,
                           os.path.join(self.dir, 'tls-src'))
        self.dst_tls = ca.issue(DST_HOST, self.dst.address,
                                os.path.join(self.dir, 'tls-dst'))
        conf = cfg.ConfigOpts()
        mconf.register_opts(conf)
        conf([], project='migrator', default_config_files=[])
        for key, value in (('enabled', True),
                           ('listen_address', src.address),
                           ('tls_dir', src_tls)):
            conf.set_override(key, value, group='nbd')
        self.exports = mexports.Exports(conf, os.path.join(self.dir, 'src'),
                                        prefix=src.cmd([]))
        self.exports.check_config()
        for name, path in sources.items():
            self.locations[name] = self.exports.export(
                'bench', name, path, [DST_HOST], writable=False)
            log('crosshost: %s exported by host %s as %s', name,
                src.address, self.locations[name]['data']['export'])

    def worker_prefix(self):
        """The command the destination's worker runs under."""
        return self.dst.cmd([])

    def worker_opts(self):
        """The [nbd] options of the destination's worker."""
        return {'tls_dir': self.dst_tls}

    def cleanup(self):
        if self.exports is not None:
            for name in list(self.locations):
                self.exports.unexport(name)
        if self.net is not None:
            self.net.remove()
