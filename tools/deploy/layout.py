"""What the deployment is made of: hosts, their addresses, their files
and their config files.  Nothing here starts anything."""

import json
import os
import secrets

from migrator_testing import netns

#: (host, services), in the order their addresses are given (.2 on).
HOSTS = (
    ('ctl1', ('migrator-conductor', 'migrator-api')),
    ('ctl2', ('migrator-conductor',)),
    ('vol1', ('migrator-volume',)),
    ('vol2', ('migrator-volume',)),
    ('cmp1', ('libvirtd', 'migrator-compute')),
    ('cmp2', ('libvirtd', 'migrator-compute')),
)
API_HOST = 'ctl1'
API_PORT = 8780
KEYSTONE_PORT = 5000
#: The volume hosts' backends: (name, type).
BACKENDS = {
    'vol1': (('vol1-file', 'file'), ('vol1-block', 'block')),
    'vol2': (('vol2-file', 'file'), ('vol2-block', 'block')),
}
#: Loop devices of each block backend.
LOOP_DEVICES = 2
LOOP_SIZE = 256 * 1024 * 1024
SERVICE_USER = ('migrator', 'service', 'service')
DEMO_USER = ('demo', 'demo', 'member')


class Layout(object):
    """The deployment kept in ``state`` (a directory), on the bridge
    ``<prefix>-br`` of ``<subnet>.0/24``."""

    def __init__(self, state, prefix='mgd', subnet='10.77.0'):
        self.state = os.path.abspath(state)
        self.prefix, self.subnet = prefix, subnet
        self.network = netns.Network(prefix, subnet)
        self.gateway = self.network.gateway
        self.record_file = os.path.join(self.state, 'deploy.json')
        self.keystone_dir = os.path.join(self.state, 'keystone')
        self.ca_dir = os.path.join(self.state, 'ca')
        self.logs = os.path.join(self.state, 'logs')

    # -- names and places ----------------------------------------------

    def hosts(self):
        """{host: address}, as netns.Network gives them out."""
        return {name: '%s.%d' % (self.subnet, i + 2)
                for i, (name, _services) in enumerate(HOSTS)}

    def host(self, name):
        return netns.Host(self.network, name, self.hosts()[name])

    def host_dir(self, name):
        return os.path.join(self.state, name)

    def conf_file(self, name):
        return os.path.join(self.host_dir(name), 'migrator.conf')

    def conf_dir(self, name):
        """Read after conf_file (``--config-dir``): what ``up
        --extra-conf`` adds."""
        return os.path.join(self.host_dir(name), 'migrator.conf.d')

    def tls_dir(self, name):
        return os.path.join(self.host_dir(name), 'tls')

    def libvirt_dir(self, name):
        return os.path.join(self.host_dir(name), 'libvirt')

    def libvirt_uri(self, name):
        return 'qemu+unix:///system?socket=%s' % os.path.join(
            self.libvirt_dir(name), 'run', 'libvirt-sock')

    def log_dir(self, name):
        return os.path.join(self.logs, name)

    @property
    def endpoint(self):
        return 'http://%s:%d' % (self.hosts()[API_HOST], API_PORT)

    @property
    def keystone_url(self):
        return 'http://%s:%d/v3' % (self.gateway, KEYSTONE_PORT)

    @property
    def account(self):
        """The RabbitMQ vhost, MariaDB database and user of this
        deployment (one per prefix: deployments share the servers)."""
        return 'migrator_%s' % self.prefix

    # -- the record of what runs ---------------------------------------

    def load(self):
        try:
            with open(self.record_file) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def save(self, record):
        os.makedirs(self.state, exist_ok=True)
        with open(self.record_file + '.tmp', 'w') as f:
            json.dump(record, f, indent=1, sort_keys=True)
        os.replace(self.record_file + '.tmp', self.record_file)

    def secrets(self, record):
        """The deployment's passwords, made once and kept in the
        record."""
        values = record.setdefault('secrets', {})
        for name in ('admin', 'service', 'demo', 'messaging', 'database'):
            values.setdefault(name, secrets.token_hex(16))
        return values


def _ini(groups):
    lines = []
    for group, opts in groups:
        lines.append('[%s]' % group)
        lines += ['%s = %s' % (k, v) for k, v in opts]
        lines.append('')
    return '\n'.join(lines)


def host_config(layout, name, urls, pw, loops=None):
    """The text of host ``name``'s config file.  ``urls``: the
    transport_url and database connection; ``pw``: the secrets;
    ``loops``: {volume host: its block backend's devices}."""
    services = dict(HOSTS)[name]
    addr = layout.hosts()[name]
    groups = [('DEFAULT', [
        ('host', name), ('state_path', layout.host_dir(name)),
        ('log_dir', layout.log_dir(name)),
        ('transport_url', urls['transport_url'])]),
        ('oslo_messaging_notifications', [('driver', 'messagingv2')])]
    if 'migrator-conductor' in services or 'migrator-api' in services:
        groups.append(('database', [('connection', urls['database'])]))
    if 'migrator-api' in services:
        groups += api_groups(layout, addr, pw)
    if 'migrator-volume' in services:
        groups += volume_groups(layout, name, (loops or {}).get(name, ()))
    if name in BACKENDS or 'migrator-compute' in services:
        groups.append(('nbd', [('enabled', str(name in BACKENDS).lower()),
                               ('listen_address', addr),
                               ('tls_dir', layout.tls_dir(name))]))
    if 'migrator-compute' in services:
        groups.append(('compute', [('driver', 'libvirt'),
                                   ('libvirt_uri', layout.libvirt_uri(name))]))
    return _ini(groups)


def api_groups(layout, addr, pw):
    user, project, _role = SERVICE_USER
    return [
        ('api', [('host_ip', addr), ('port', API_PORT),
                 ('auth_strategy', 'keystone')]),
        ('keystone_authtoken', [
            ('www_authenticate_uri', layout.keystone_url),
            ('auth_url', layout.keystone_url), ('auth_type', 'password'),
            ('username', user), ('password', pw['service']),
            ('project_name', project), ('user_domain_name', 'Default'),
            ('project_domain_name', 'Default'),
            ('interface', 'internal')]),
    ]


def volume_groups(layout, name, loops):
    backends = BACKENDS[name]
    groups = [('volume', [('enabled_backends',
                           ','.join(b for b, _t in backends))])]
    for backend, kind in backends:
        if kind == 'file':
            opts = [('backend_type', 'file'), ('file_path', os.path.join(
                layout.host_dir(name), backend))]
        else:
            opts = [('backend_type', 'block'),
                    ('block_devices', ','.join(loops))]
        groups.append((backend, opts))
    return groups
