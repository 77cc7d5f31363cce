"""Volumes of other hosts for the compute agent's tests: hosts as network
namespaces (``mb2-*`` on 10.79.0.0/24), a CA with per-host x509
credentials, and NBD exports served by qemu-storage-daemon inside a host
with TLS and an authorization list, as a volume worker serves them.

The compute host is the root namespace (where libvirtd runs), reached by
the volume hosts at the bridge's address; its credentials are what the
agent's ``[nbd] tls_dir`` names.
"""

import fcntl
import json
import os
import subprocess

import fixtures

from migrator_api.rpcapi import payloads
from migrator_testing import guests
from migrator_testing import netns
from migrator_testing import pki

PREFIX = 'mb2'
SUBNET = '10.79.0'
COMPUTE = 'cmp1'
FIRST_PORT = 10809
#: One test at a time owns the mb2 network (stestr workers, other runs).
NETWORK_LOCK = '/tmp/migrator-tests-mb2.lock'


def bridge_daemons(directory):
    """Pids of the qemu-storage-daemons serving a socket in
    ``directory`` (an agent's bridges)."""
    out = []
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % name, 'rb') as f:
                argv = f.read().decode(errors='replace').split('\0')
        except OSError:
            continue
        if argv[0].endswith('qemu-storage-daemon') and \
                any(directory + '/' in a for a in argv):
            out.append(int(name))
    return out


class NbdVolume(object):
    """A raw file of a volume host, exported over NBD with TLS."""
    kind = 'nbd'

    def __init__(self, hosts, host, path, size, export, port, pid_file):
        self.hosts, self.host, self.path, self.size = hosts, host, path, size
        self.file = path
        self.export, self.port, self.pid_file = export, port, pid_file

    @property
    def connection_info(self):
        return payloads.nbd_location(self.host.address, self.port,
                                     self.export, self.size)

    def image_opts(self, tls_id='tls0'):
        return ('driver=nbd,server.type=inet,server.host=%s,server.port=%d,'
                'export=%s,tls-creds=%s' % (self.host.address, self.port,
                                            self.export, tls_id))

    def read(self):
        return guests.read_image(self.path, 'raw')

    def write_all(self, data):
        with open(self.path, 'r+b') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    def unexport(self):
        """What the volume worker does once the volume is released."""
        with open(self.pid_file) as f:
            pid = int(f.read())
        os.kill(pid, 15)

    def __repr__(self):
        return '<NbdVolume %s:%d/%s>' % (self.host.address, self.port,
                                         self.export)


class NbdHosts(fixtures.Fixture):
    """Volume hosts (namespaces), the deployment's CA and credentials."""

    def __init__(self, tempdir, names=('vol1', 'vol2')):
        super().__init__()
        self.tempdir = tempdir
        self.names = names

    def _setUp(self):
        self._lockf = open(NETWORK_LOCK, 'a')
        fcntl.flock(self._lockf, fcntl.LOCK_EX)
        self.addCleanup(self._lockf.close)
        self.net = netns.Network(PREFIX, SUBNET).up()
        self.addCleanup(self.net.remove)
        self.ca = pki.CA(os.path.join(self.tempdir, 'ca')).create()
        self.hosts = {}
        for name in self.names:
            host = self.net.add_host(name)
            self.ca.issue(name, host.address, self.tls_dir(name))
            self.hosts[name] = host
        self.compute_tls = self.ca.issue(COMPUTE, self.net.gateway,
                                         self.tls_dir(COMPUTE))
        self._port = FIRST_PORT
        self._count = 0

    def tls_dir(self, name):
        return os.path.join(self.tempdir, 'pki-%s' % name)

    def identities(self):
        return [pki.identity(n) for n in (COMPUTE,) + tuple(self.names)]

    def issue(self, name, address=None):
        """Credentials of another host (say an intruder) of the CA."""
        return self.ca.issue(name, address or self.net.gateway,
                             self.tls_dir(name))

    def export(self, host_name, size, data=None, allow=None):
        """A new volume on ``host_name``, exported to the identities
        ``allow`` (default: this compute host and every volume host)."""
        host = self.hosts[host_name]
        self._count += 1
        export = 'volume-%d' % self._count
        path = os.path.join(self.tempdir, '%s-%s.raw' % (host_name, export))
        with open(path, 'wb') as f:
            f.write(os.urandom(size) if data is None else data)
            f.flush()
            os.fsync(f.fileno())
        self._port += 1
        pid_file = path + '.pid'
        rules = [{'match': i, 'policy': 'allow', 'format': 'exact'}
                 for i in (self.identities() if allow is None else allow)]
        host.run([
            'qemu-storage-daemon',
            '--object', 'tls-creds-x509,id=tls0,endpoint=server,dir=%s,'
                        'verify-peer=on' % self.tls_dir(host_name),
            '--object', json.dumps({'qom-type': 'authz-list', 'id': 'auth0',
                                    'policy': 'deny', 'rules': rules}),
            '--blockdev', json.dumps({'driver': 'file', 'node-name': 'f0',
                                      'filename': path}),
            '--nbd-server', 'addr.type=inet,addr.host=%s,addr.port=%d,'
                            'tls-creds=tls0,tls-authz=auth0'
                            % (host.address, self._port),
            '--export', 'type=nbd,id=e0,node-name=f0,name=%s,writable=on'
                        % export,
            '--daemonize', '--pidfile', pid_file],
            capture_output=True)
        return NbdVolume(self, host, path, size, export, self._port,
                         pid_file)

    def copy(self, src, dst):
        """The copy a volume worker makes between start and complete,
        over NBD with TLS: on the destination's host (this compute host
        for a local destination)."""
        host = getattr(dst, 'host', None)
        name = host.name if host is not None else COMPUTE
        argv = ['qemu-img', 'convert', '-n',
                '--object', 'tls-creds-x509,id=tls0,endpoint=client,dir=%s'
                % self.tls_dir(name), '--image-opts', self._opts(src),
                '--target-image-opts', self._opts(dst)]
        run = host.run if host is not None else subprocess.run
        run(argv, check=True, capture_output=True)

    @staticmethod
    def _opts(volume):
        if isinstance(volume, NbdVolume):
            return volume.image_opts()
        return 'driver=raw,file.filename=%s' % volume.path
