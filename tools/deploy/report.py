"""Telling the deployment's state: waiting until every service reports
up, the client settings (clouds.yaml, openrc), and ``status``."""

import os
import subprocess
import time

from keystoneauth1 import exceptions as ks_exc
import yaml

from deploy import layout as lay
from deploy import procs
from deploy import steps
from migrator_testing import keystone
from migrator_testing import netns


def admin_auth(layout, pw):
    return {'auth_url': layout.keystone_url, 'username': 'admin',
            'password': pw['admin'], 'project_name': 'admin',
            'user_domain_name': 'Default', 'project_domain_name': 'Default'}


def expected_services():
    """(host, binary) of every migrator service that heartbeats."""
    return sorted((name, svc) for name, svcs in lay.HOSTS for svc in svcs
                  if svc not in ('libvirtd', 'migrator-api'))


def _services(session, layout):
    resp = session.get(layout.endpoint + '/v1/services', raise_exc=False,
                       timeout=10)
    if resp.status_code != 200:
        return None
    return {(s['host'], s['binary']): s['state']
            for s in resp.json()['services']}


def wait_up(layout, record, pw):
    """Until the API answers and every service reports up."""
    step = steps.step
    step('waiting until the API answers and every service reports up')
    session = keystone.password_session(layout.keystone_url, 'admin',
                                        pw['admin'], 'admin')
    deadline = time.monotonic() + steps.WAIT
    seen = None
    while time.monotonic() < deadline:
        _check_alive(record)
        try:
            seen = _services(session, layout)
        except (ks_exc.ConnectFailure, ks_exc.ConnectTimeout,
                ks_exc.DiscoveryFailure):
            seen = None
        if seen and all(seen.get(k) == 'up' for k in expected_services()):
            return seen
        time.sleep(0.5)
    missing = [k for k in expected_services() if (seen or {}).get(k) != 'up']
    raise steps.DeployError('not up after %d s: %s%s' % (
        steps.WAIT, ', '.join('%s %s' % k for k in missing),
        '' if seen else ' (the API at %s does not answer)' % layout.endpoint))


def _check_alive(record):
    for key, entry in sorted(record.get('procs', {}).items()):
        if not procs.alive(entry['pid'], entry['marker']):
            raise steps.DeployError('%s exited:\n%s' % (
                key, steps.why_not_running(entry)))


def client_files(layout, pw):
    """clouds.yaml (clouds migrator-admin and migrator-demo) and an
    openrc of the admin; their paths."""
    demo_user, demo_project, _role = lay.DEMO_USER
    demo = dict(admin_auth(layout, pw), username=demo_user,
                password=pw['demo'], project_name=demo_project)
    clouds = {'clouds': {
        'migrator-admin': {'auth': admin_auth(layout, pw),
                           'region_name': keystone.REGION},
        'migrator-demo': {'auth': demo, 'region_name': keystone.REGION}}}
    clouds_yaml = os.path.join(layout.state, 'clouds.yaml')
    openrc = os.path.join(layout.state, 'openrc')
    for path, text in (
            (clouds_yaml, yaml.safe_dump(clouds, default_flow_style=False)),
            (openrc, ''.join('export %s\n' % v for v in os_settings(
                layout, pw)))):
        with open(path, 'w') as f:
            f.write(text)
        os.chmod(path, 0o600)
    return clouds_yaml, openrc


def os_settings(layout, pw):
    auth = admin_auth(layout, pw)
    return ['OS_%s=%s' % (k.upper(), auth[k]) for k in (
        'auth_url', 'username', 'password', 'project_name',
        'user_domain_name', 'project_domain_name')] + [
        'OS_REGION_NAME=%s' % keystone.REGION]


def summary(layout, pw, seen, seconds):
    clouds_yaml, openrc = client_files(layout, pw)
    backends = sum(len(b) for b in lay.BACKENDS.values())
    print('== migrator is up in %.0f s: %d hosts, %d services up, %d '
          'backends' % (seconds, len(layout.hosts()), len(seen), backends))
    print('   API endpoint: %s (keystone catalog, service type %s)'
          % (layout.endpoint, keystone.SERVICE_TYPE))
    print('   keystone:     %s' % layout.keystone_url)
    print('   as the admin (also in %s):' % openrc)
    for setting in os_settings(layout, pw):
        print('     export %s' % setting)
    print('   or: export OS_CLIENT_CONFIG_FILE=%s OS_CLOUD=migrator-admin '
          '(migrator-demo: a member of project demo)' % clouds_yaml)
    print('   then: migrator service list; tools/deploy.sh status; '
          'tools/deploy.sh down')


def status(layout):
    """Each host, its processes, and ``migrator service list``."""
    record = layout.load()
    if not record:
        print('== no deployment in %s' % layout.state)
        return 0
    present = set(netns.namespaces())
    print('== deployment in %s' % layout.state)
    for name, address in layout.hosts().items():
        ns = layout.host(name).namespace
        print('%-5s %-12s netns %s%s' % (name, address, ns, '' if ns in
                                         present else ' (missing)'))
        for key, entry in sorted(record.get('procs', {}).items()):
            if key.startswith(name + '/'):
                print('      %-20s pid %-8d %s' % (
                    key.split('/', 1)[1], entry['pid'], 'running' if
                    procs.alive(entry['pid'], entry['marker']) else
                    'NOT RUNNING'))
    server = steps.keystone_server(layout, layout.secrets(record))
    print('keystone %s: %s' % (server.url, 'running (pid %d)' % server.pid()
                               if server.running() else 'NOT RUNNING'))
    for device, backing in record.get('loops', []):
        print('loop device %s: %s' % (device, backing))
    return _service_list(layout, record)


def _service_list(layout, record):
    env = dict(os.environ, **dict(s.split('=', 1) for s in os_settings(
        layout, layout.secrets(record))))
    env.pop('MIGRATOR_ENDPOINT', None)
    env.pop('OS_CLOUD', None)
    print('== migrator service list')
    proc = subprocess.run([os.path.join(steps.BIN, 'migrator'), 'service',
                           'list'], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60)
    print((proc.stdout + proc.stderr).rstrip())
    return proc.returncode
