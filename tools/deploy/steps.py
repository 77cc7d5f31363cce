"""``up``: make what is missing and start what does not run; every
step is idempotent, and what it made is recorded at once (deploy.json)
so that ``down`` undoes a half-finished ``up`` too."""

import os
import subprocess
import sys
import time

from migrator_testing import hosts as host_tools
from migrator_testing import keystone
from migrator_testing import netns
from migrator_testing import pki
from migrator_testing import services

from deploy import layout as lay
from deploy import procs

BIN = os.path.dirname(sys.executable)
#: Bound of every wait (a service that takes longer has failed).
WAIT = 180


class DeployError(Exception):
    """A step failed; the message says which and where to look."""


def step(message):
    print('== %s' % message, flush=True)


def tail(path, lines=15):
    try:
        with open(path, errors='replace') as f:
            text = f.readlines()[-lines:]
    except OSError:
        return ''
    return ''.join('   | ' + line for line in text)


def network(layout, record):
    """The bridge and a namespace per host (kept when all are there)."""
    wanted = {layout.host(name).namespace for name in layout.hosts()}
    bridge = subprocess.run(['ip', 'link', 'show', layout.network.bridge],
                            capture_output=True).returncode == 0
    if record.get('network') and bridge and wanted <= set(
            netns.namespaces()):
        return
    step('network: bridge %s (%s), hosts %s' % (
        layout.network.bridge, layout.gateway, ', '.join(
            '%s %s' % kv for kv in layout.hosts().items())))
    record['network'] = True
    layout.save(record)
    layout.network.up()
    for name, address in layout.hosts().items():
        host = layout.network.add_host(name)
        assert host.address == address, (host, address)


def credentials(layout):
    """A CA for the deployment and each host's x509 credentials."""
    ca = pki.CA(layout.ca_dir).create()
    for name, address in layout.hosts().items():
        if not os.path.exists(os.path.join(layout.tls_dir(name),
                                           'server-cert.pem')):
            ca.issue(name, address, layout.tls_dir(name))


def _running(name):
    programs = {'rabbitmq': ('beam.smp',),
                'mariadb': ('mariadbd', 'mysqld_safe')}[name]
    return any(host_tools.pids_of(p) for p in programs)


def shared_services(layout, record, pw):
    """RabbitMQ and MariaDB: a vhost, a database and a user of this
    deployment; their URLs.  Servers this ``up`` had to start are
    recorded (``down`` stops them)."""
    account = layout.account
    started = record.setdefault('started_services', [])
    urls = {}
    for name, make in (
            ('rabbitmq', lambda: services.rabbitmq(
                user=account, password=pw['messaging'], host=layout.gateway,
                vhost=account)),
            ('mariadb', lambda: services.mariadb(
                database=account, user=account, password=pw['database'],
                host=layout.gateway))):
        was_running = _running(name)
        step('%s: %s of this deployment on %s' % (
            name, 'vhost' if name == 'rabbitmq' else 'database',
            layout.gateway))
        try:
            urls[name] = make()
        finally:
            if not was_running and _running(name) and name not in started:
                started.append(name)
            layout.save(record)
    record['urls'] = urls
    layout.save(record)
    return {'transport_url': urls['rabbitmq'], 'database': urls['mariadb']}


def keystone_server(layout, pw):
    return keystone.Keystone(layout.keystone_dir, address=layout.gateway,
                             port=lay.KEYSTONE_PORT,
                             admin_password=pw['admin'],
                             log=os.path.join(layout.logs, 'keystone-setup'
                                                           '.log'))


def identity(layout, record, pw):
    """keystone on the bridge address, its users and the catalog."""
    server = keystone_server(layout, pw)
    if not server.running():
        step('keystone %s on %s (log: %s)' % (
            keystone.VERSION, server.url, server.log))
        record['keystone'] = True
        layout.save(record)
        server.setup().start()
    admin = server.admin()
    for user, project, role in (lay.SERVICE_USER, lay.DEMO_USER):
        admin.user(user, pw['service' if user == 'migrator' else 'demo'],
                   project, [role])
    admin.endpoint(keystone.SERVICE_TYPE, 'migrator', layout.endpoint)
    return server


def _attached(device, backing):
    try:
        with open('/sys/block/%s/loop/backing_file'
                  % os.path.basename(device)) as f:
            return os.path.realpath(f.read().strip()) == backing
    except OSError:
        return False


def loop_devices(layout, record):
    """The loop devices of vol1-block (attached again when gone)."""
    loops = record.get('loops', [])
    if len(loops) == lay.LOOP_DEVICES and all(_attached(d, f)
                                              for d, f in loops):
        return [d for d, _f in loops]
    for device, backing in loops:
        host_tools.detach_loop(device, backing)
    directory = os.path.join(layout.host_dir('vol1'), 'loops')
    os.makedirs(directory, exist_ok=True)
    loops = []
    for i in range(lay.LOOP_DEVICES):
        backing = os.path.join(directory, 'disk%d.img' % i)
        with open(backing, 'wb') as f:
            f.truncate(lay.LOOP_SIZE)
        loops.append((host_tools.attach_loop(backing), backing))
        record['loops'] = loops
        layout.save(record)
    step('block devices of vol1-block: %s' % ', '.join(d for d, _ in loops))
    return [d for d, _f in loops]


def write_configs(layout, urls, pw, loops):
    """Each host's config file; the hosts whose file changed."""
    changed = set()
    for name in layout.hosts():
        text = lay.host_config(layout, name, urls, pw, loops)
        path = layout.conf_file(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.makedirs(layout.log_dir(name), exist_ok=True)
        try:
            with open(path) as f:
                if f.read() == text:
                    continue
        except OSError:
            pass
        with open(path, 'w') as f:
            f.write(text)
        os.chmod(path, 0o600)
        changed.add(name)
    return changed


def db_sync(layout):
    """The schema, by migrator-manage on the API's host."""
    host = layout.host(lay.API_HOST)
    log = os.path.join(layout.log_dir(lay.API_HOST), 'migrator-manage.out')
    with open(log, 'a') as out:
        rc = host.run([os.path.join(BIN, 'migrator-manage'), '--config-file',
                       layout.conf_file(lay.API_HOST), 'db', 'sync'],
                      check=False, stdin=subprocess.DEVNULL, stdout=out,
                      stderr=subprocess.STDOUT).returncode
    if rc:
        raise DeployError('migrator-manage db sync failed:\n%s' % tail(log))


def command(layout, name, service):
    """(argv, marker in its command line, log) of a service of host
    ``name``."""
    logs = layout.log_dir(name)
    if service == 'libvirtd':
        directory = layout.libvirt_dir(name)
        return (procs.libvirtd_argv(directory, name), os.path.join(
            directory, 'libvirtd.pid'), os.path.join(logs, 'libvirtd.out'))
    conf = layout.conf_file(name)
    return ([os.path.join(BIN, service), '--config-file', conf], conf,
            os.path.join(logs, '%s.out' % service))


def why_not_running(entry):
    """The ends of what a stopped service printed and logged."""
    out = entry['log']
    log = out[:-len('.out')] + '.log'
    return ''.join('   %s:\n%s' % (path, tail(path)) for path in (out, log)
                   if os.path.exists(path))


def start_services(layout, record, changed):
    """Every service of every host, unless it runs with an unchanged
    config file."""
    table = record.setdefault('procs', {})
    for name, host_services in lay.HOSTS:
        host = layout.host(name)
        for service in host_services:
            key = '%s/%s' % (name, service)
            argv, marker, log = command(layout, name, service)
            entry = table.get(key)
            if entry and procs.alive(entry['pid'], marker):
                if name not in changed:
                    continue
                procs.stop([(entry['pid'], marker)])
            step('%s: starting %s (log: %s)' % (name, service, log))
            table[key] = {'pid': procs.start(host, argv, log, layout.state),
                          'marker': marker, 'log': log}
            layout.save(record)
            if service == 'libvirtd':
                wait_libvirtd(layout, name, table[key])


def wait_libvirtd(layout, name, entry):
    uri = layout.libvirt_uri(name)
    deadline = time.monotonic() + WAIT
    while not procs.libvirtd_answers(uri):
        if not procs.alive(entry['pid'], entry['marker']) or \
                time.monotonic() > deadline:
            raise DeployError('the libvirtd of %s does not answer:\n%s'
                              % (name, why_not_running(entry)))
        time.sleep(0.2)
