"""Hosts as network namespaces: each with its own address on a bridge
of the root namespace, as the project's multi-host tests and the local
deployment (tools/deploy) use them.

    net = netns.Network('mig', subnet=10.77.0)   # bridge mig-br, 10.77.0.1
    vol1 = net.add_host('vol1')                   # netns mig-vol1, 10.77.0.2
    subprocess.run(vol1.cmd(['qemu-storage-daemon', ...]))
    net.remove()                                  # every namespace, the bridge

The root namespace reaches every host through the bridge (the
services the hosts share, RabbitMQ, the database, keystone, listen on
the bridge address); hosts reach each other directly.  Only the
project's own addresses are used: nothing is routed elsewhere.
"""

import ipaddress
import os
import subprocess


def _ip(*args, check=True):
    return subprocess.run(['ip'] + list(args), check=check,
                          capture_output=True, text=True)


def namespaces():
    """The names of the network namespaces of this machine."""
    out = _ip('-o', 'netns', 'list', check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


class Host(object):
    """One host: a network namespace with an address."""

    def __init__(self, network, name, address):
        self.network, self.name, self.address = network, name, address
        self.namespace = '%s-%s' % (network.prefix, name)

    def cmd(self, argv):
        """``argv`` run inside the host."""
        return ['ip', 'netns', 'exec', self.namespace] + list(argv)

    def run(self, argv, **kwargs):
        kwargs.setdefault('check', True)
        return subprocess.run(self.cmd(argv), **kwargs)

    def popen(self, argv, **kwargs):
        return subprocess.Popen(self.cmd(argv), **kwargs)

    def __repr__(self):
        return '<Host %s %s>' % (self.name, self.address)


class Network(object):
    """A bridge ``<prefix>-br`` with the gateway address ``<subnet>.1``
    and hosts ``<subnet>.2`` onwards.  ``subnet``: the first three
    octets, e.g. ``'10.77.0'``."""

    def __init__(self, prefix, subnet):
        self.prefix = prefix
        self.subnet = subnet
        self.bridge = '%s-br' % prefix
        self.gateway = '%s.1' % subnet
        ipaddress.ip_address(self.gateway)  # a valid subnet
        self.hosts = {}

    def up(self):
        """Make the bridge (again: a leftover of an earlier run is
        replaced)."""
        self.remove()
        _ip('link', 'add', self.bridge, 'type', 'bridge')
        _ip('addr', 'add', '%s/24' % self.gateway, 'dev', self.bridge)
        _ip('link', 'set', self.bridge, 'up')
        return self

    def add_host(self, name):
        address = '%s.%d' % (self.subnet, len(self.hosts) + 2)
        host = Host(self, name, address)
        ns = host.namespace
        outer, inner = self._outer(name), 'eth0'
        _ip('netns', 'add', ns)
        _ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', inner,
            'netns', ns)
        _ip('link', 'set', outer, 'master', self.bridge)
        _ip('link', 'set', outer, 'up')
        for args in (('addr', 'add', '%s/24' % address, 'dev', inner),
                     ('link', 'set', inner, 'up'),
                     ('link', 'set', 'lo', 'up'),
                     ('route', 'add', 'default', 'via', self.gateway)):
            _ip('-n', ns, *args)
        self.hosts[name] = host
        return host

    def _outer(self, name):
        """The root namespace's end of a host's veth pair (at most 15
        characters, as Linux wants)."""
        return '%s-%s' % (self.prefix[:5], name[:6])

    def remove(self):
        """Remove every namespace of this prefix and the bridge; kill
        what still runs in them first."""
        for ns in namespaces():
            if ns.startswith(self.prefix + '-'):
                pids = _ip('netns', 'pids', ns, check=False).stdout.split()
                for pid in pids:
                    try:
                        os.kill(int(pid), 9)
                    except (ProcessLookupError, ValueError):
                        pass
                # The veth pair goes with its root end, at once (with
                # the namespace it would go later, asynchronously).
                _ip('link', 'delete', self._outer(ns[len(self.prefix) + 1:]),
                    check=False)
                _ip('netns', 'delete', ns, check=False)
        _ip('link', 'delete', self.bridge, check=False)
        self.hosts = {}
