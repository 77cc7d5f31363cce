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


#: The database servers ``up --database`` may use.
DATABASES = ('mariadb', 'postgresql')


def _running(name):
    programs = {'rabbitmq': ('beam.smp',),
                'mariadb': ('mariadbd', 'mysqld_safe'),
                'postgresql': ('postgres',)}[name]
    return any(host_tools.pids_of(p) for p in programs)


def shared_services(layout, record, pw, database='mariadb'):
    """RabbitMQ and the database server (``database``: mariadb or
    postgresql): a vhost, a database and a user of this deployment;
    their URLs.  Servers this ``up`` had to start are recorded (``down``
    stops them)."""
    account = layout.account
    started = record.setdefault('started_services', [])
    urls = {}
    make_db = {'mariadb': services.mariadb,
               'postgresql': services.postgresql}[database]
    for name, make in (
            ('rabbitmq', lambda: services.rabbitmq(
                user=account, password=pw['messaging'], host=layout.gateway,
                vhost=account)),
            (database, lambda: make_db(
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
    return {'transport_url': urls['rabbitmq'], 'database': urls[database]}


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
    """The loop devices of each block backend, {volume host: devices}
    (attached again when gone)."""
    loops = record.get('loops', [])
    hosts = [h for h, backends in lay.BACKENDS.items()
             if any(kind == 'block' for _b, kind in backends)]
    if len(loops) == lay.LOOP_DEVICES * len(hosts) and all(
            _attached(d, f) for d, f in loops):
        return _by_host(layout, hosts, loops)
    for device, backing in loops:
        host_tools.detach_loop(device, backing)
    loops = []
    for name in hosts:
        directory = os.path.join(layout.host_dir(name), 'loops')
        os.makedirs(directory, exist_ok=True)
        for i in range(lay.LOOP_DEVICES):
            backing = os.path.join(directory, 'disk%d.img' % i)
            with open(backing, 'wb') as f:
                f.truncate(lay.LOOP_SIZE)
            loops.append((host_tools.attach_loop(backing), backing))
            record['loops'] = loops
            layout.save(record)
    by_host = _by_host(layout, hosts, loops)
    step('block devices: %s' % '; '.join(
        '%s %s' % (h, ', '.join(d)) for h, d in by_host.items()))
    return by_host


def _by_host(layout, hosts, loops):
    return {h: [d for d, f in loops
                if f.startswith(layout.host_dir(h) + os.sep)]
            for h in hosts}


def _write_if_changed(path, text, mode=0o600):
    """Write ``text`` to ``path`` (None: remove it); changed?"""
    try:
        with open(path) as f:
            if f.read() == text:
                return False
    except OSError:
        if text is None:
            return False
    if text is None:
        os.unlink(path)
        return True
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)
    os.chmod(path, mode)
    return True


def write_configs(layout, urls, pw, loops, extra=None):
    """Each host's config file, and ``extra`` (the text of ``up
    --extra-conf``, or None) in its config directory; the hosts whose
    configuration changed."""
    changed = set()
    for name in layout.hosts():
        os.makedirs(layout.log_dir(name), exist_ok=True)
        os.makedirs(layout.conf_dir(name), exist_ok=True)
        text = lay.host_config(layout, name, urls, pw, loops)
        if _write_if_changed(layout.conf_file(name), text) | \
                _write_if_changed(os.path.join(layout.conf_dir(name),
                                               'extra.conf'), extra):
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
    return ([os.path.join(BIN, service), '--config-file', conf,
             '--config-dir', layout.conf_dir(name)], conf,
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
