"""A real keystone for the tests and the local deployment.

keystone (``VERSION``, from PyPI) lives in a virtualenv of its own made
from the system interpreter (``VENV``, installed once and reused), with
a SQLite database and fernet keys in a directory of its server, served
by uWSGI (Debian's uwsgi-core and uwsgi-plugin-python3) as
``keystone.wsgi.api:application``.  Every setting reaches keystone
through its config file (``OS_KEYSTONE_CONFIG_DIR``): under a WSGI
server oslo.config must not read the server's command line.

    ks = keystone.Keystone('/srv/ks', address='10.77.0.1', port=5000)
    ks.setup()                      # install, db_sync, keys, bootstrap
    ks.start()                      # a daemon holding none of our fds
    admin = ks.admin()              # REST calls as the bootstrap admin
    admin.user('alice', 'pw', 'demo', ['member'])
    ks.stop()

The tests share one server per run (tests/integration/keystone/
shared.py).
"""

import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import time

from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session

VERSION = '30.0.0'
VENV = os.environ.get('MIGRATOR_KEYSTONE_VENV',
                      '/var/lib/migrator/keystone-venv')
SYSTEM_PYTHON = '/usr/bin/python3'
UWSGI_PLUGIN = '/usr/lib/uwsgi/plugins/python3_plugin.so'
INSTALL_LOCK = '/tmp/migrator-keystone-install.lock'
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REGION = 'RegionOne'
ADMIN_PASSWORD = 'migrator-admin-secret'
#: The service type of migrator's API in the catalog (the CLI's default).
SERVICE_TYPE = 'volume-migration'

KEYSTONE_CONF = """[DEFAULT]
log_file = {d}/keystone.log
use_stderr = false
[database]
connection = sqlite:///{d}/keystone.sqlite
[token]
provider = fernet
[fernet_tokens]
key_repository = {d}/fernet-keys
[fernet_receipts]
key_repository = {d}/fernet-keys
[credential]
key_repository = {d}/credential-keys
[cache]
# In memory, in keystone's one process: without a cache every request
# takes ~0.3 s here.
enabled = true
backend = dogpile.cache.memory
[identity]
password_hash_rounds = {hash_rounds}
"""

UWSGI_INI = """[uwsgi]
plugins = python3
virtualenv = {venv}
module = keystone.wsgi.api:application
env = OS_KEYSTONE_CONFIG_DIR={d}
http-socket = {address}:{port}
master = true
# One process: its in-memory cache is the only one (no worker can
# answer from a stale copy after another one's write).
processes = 1
threads = 8
lazy-apps = true
need-app = true
die-on-term = true
pidfile = {d}/uwsgi.pid
daemonize = {d}/uwsgi.log
disable-logging = true
# No keep-alive on a plain http-socket: say so, so that no client
# reuses a connection uWSGI has closed.
add-header = Connection: close
"""


def default_log():
    return os.environ.get('MIGRATOR_LOG') or os.path.join(
        REPO, 'state', 'logs', 'install.log')


@contextlib.contextmanager
def flocked(path, mode=fcntl.LOCK_EX):
    with open(path, 'a') as lock:
        fcntl.flock(lock, mode)
        yield lock


def _run(argv, log, **kwargs):
    """Run ``argv`` with its output appended to ``log``; raise with the
    log's name when it fails."""
    os.makedirs(os.path.dirname(log), exist_ok=True)
    with open(log, 'a') as out:
        out.write('+ %s\n' % ' '.join(argv))
        out.flush()
        rc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out,
                            stderr=subprocess.STDOUT, **kwargs).returncode
    if rc:
        raise RuntimeError('%s failed (exit %d); see %s'
                           % (' '.join(argv[:3]), rc, log))


def install(venv=VENV, log=None):
    """keystone VERSION in ``venv`` unless there already (serialized
    between processes); returns ``venv``."""
    stamp = os.path.join(venv, '.migrator-keystone-%s' % VERSION)
    if os.path.exists(stamp):
        return venv
    for path in ('uwsgi', UWSGI_PLUGIN):
        if not os.path.exists(path) and not shutil.which(path):
            raise RuntimeError('%s is missing: run tools/install.sh (Debian '
                               'uwsgi-core, uwsgi-plugin-python3)' % path)
    log = log or default_log()
    with flocked(INSTALL_LOCK):
        if not os.path.exists(stamp):
            if not os.path.exists(os.path.join(venv, 'bin', 'python')):
                _run([SYSTEM_PYTHON, '-m', 'venv', venv], log)
            _run([os.path.join(venv, 'bin', 'pip'), 'install', '-q',
                  '--disable-pip-version-check', 'keystone==%s' % VERSION],
                 log)
            with open(stamp, 'w') as f:
                f.write(VERSION + '\n')
    return venv


def free_port(address='127.0.0.1'):
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def _alive(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except (OSError, IndexError):
        return False


class Keystone(object):
    """One keystone server whose files are all in ``directory``.

    ``wrap``: an argv prefix that runs the server elsewhere, e.g. a
    host's ``['ip', 'netns', 'exec', NS]``.
    """

    def __init__(self, directory, address='127.0.0.1', port=5000,
                 venv=VENV, wrap=(), admin_password=ADMIN_PASSWORD,
                 log=None, hash_rounds=12):
        """``hash_rounds``: bcrypt rounds of stored passwords and secrets
        (tests take the fewest, 4)."""
        self.hash_rounds = hash_rounds
        self.directory = os.path.abspath(directory)
        self.address, self.port = address, port
        self.venv, self.wrap = venv, list(wrap)
        self.admin_password = admin_password
        self.log = log or default_log()
        self.conf_file = os.path.join(self.directory, 'keystone.conf')
        self.ini_file = os.path.join(self.directory, 'uwsgi.ini')
        self.pid_file = os.path.join(self.directory, 'uwsgi.pid')

    @property
    def url(self):
        """The identity endpoint (``OS_AUTH_URL``)."""
        return 'http://%s:%d/v3' % (self.address, self.port)

    def _manage(self, *args):
        _run([os.path.join(self.venv, 'bin', 'keystone-manage'),
              '--config-file', self.conf_file] + list(args), self.log)

    def setup(self):
        """Install keystone, write its files, make the database and keys
        and bootstrap the admin and the catalog (again: idempotent)."""
        install(self.venv, self.log)
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        values = dict(d=self.directory, venv=self.venv,
                      address=self.address, port=self.port,
                      hash_rounds=self.hash_rounds)
        for path, template in ((self.conf_file, KEYSTONE_CONF),
                               (self.ini_file, UWSGI_INI)):
            with open(path, 'w') as f:
                f.write(template.format(**values))
        owner = ('--keystone-user', 'root', '--keystone-group', 'root')
        self._manage('db_sync')
        if not os.path.exists(os.path.join(self.directory, 'fernet-keys')):
            self._manage('fernet_setup', *owner)
        if not os.path.exists(os.path.join(self.directory,
                                           'credential-keys')):
            self._manage('credential_setup', *owner)
        self._manage('bootstrap', '--bootstrap-password', self.admin_password,
                     '--bootstrap-admin-url', self.url,
                     '--bootstrap-public-url', self.url,
                     '--bootstrap-internal-url', self.url,
                     '--bootstrap-region-id', REGION)
        return self

    def pid(self):
        try:
            with open(self.pid_file) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) else None

    def answers(self):
        try:
            with socket.create_connection((self.address, self.port), 2) as s:
                s.sendall(b'GET /v3 HTTP/1.0\r\n\r\n')
                return s.recv(12).startswith(b'HTTP/1.')
        except OSError:
            return False

    def running(self):
        return bool(self.pid()) and self.answers()

    def start(self, timeout=90):
        """Start the server unless it runs; returns once it answers."""
        if self.running():
            return self
        self.stop()
        with open(os.path.join(self.directory, 'uwsgi.log'), 'a') as out:
            # uWSGI daemonizes: it keeps none of our descriptors (only
            # 0-2, which are /dev/null and its log) and leaves our
            # process group.
            proc = subprocess.Popen(
                self.wrap + ['uwsgi', '--ini', self.ini_file],
                stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, close_fds=True,
                start_new_session=True)
        proc.wait(30)
        deadline = time.monotonic() + timeout
        while not self.running():
            if time.monotonic() > deadline:
                raise RuntimeError('keystone did not answer on %s; see %s/'
                                   'uwsgi.log and keystone.log'
                                   % (self.url, self.directory))
            time.sleep(0.2)
        return self

    def stop(self, timeout=20):
        """Stop the server (its uWSGI master and workers)."""
        pid = self.pid()
        if pid:
            pids = [pid] + _children(pid)
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while any(_alive(p) for p in pids):
                if time.monotonic() > deadline:
                    for p in pids:
                        with contextlib.suppress(OSError):
                            os.kill(p, signal.SIGKILL)
                time.sleep(0.1)
        with contextlib.suppress(OSError):
            os.unlink(self.pid_file)

    def admin(self):
        return Admin(self.url, self.admin_password)


def _children(pid):
    try:
        with open('/proc/%d/task/%d/children' % (pid, pid)) as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def password_session(auth_url, username, password, project,
                     domain='default'):
    auth = v3.Password(auth_url=auth_url, username=username,
                       password=password, project_name=project,
                       user_domain_id=domain, project_domain_id=domain)
    return ks_session.Session(auth=auth)


class Admin(object):
    """Identity resources made through keystone's REST API, each looked
    up by name first (every call is idempotent)."""

    def __init__(self, auth_url, password):
        self.auth_url = auth_url
        self.session = password_session(auth_url, 'admin', password,
                                        'admin')

    def _call(self, method, path, **kwargs):
        resp = self.session.request(self.auth_url + path, method, **kwargs)
        return resp.json() if resp.content else None

    def _find(self, collection, **params):
        found = self._call('GET', '/%s' % collection, params=params)
        return found[collection][0] if found[collection] else None

    def _ensure(self, collection, key, body, **params):
        found = self._find(collection, **params)
        if found is None:
            found = self._call('POST', '/' + collection,
                               json={key: body})[key]
        return found

    def project(self, name):
        return self._ensure('projects', 'project',
                            {'name': name, 'domain_id': 'default'},
                            name=name, domain_id='default')['id']

    def role(self, name):
        return self._ensure('roles', 'role', {'name': name}, name=name)['id']

    def user(self, name, password, project, roles):
        """A user with ``roles`` on ``project`` (made or updated).

        An existing user's password is changed only when it is not
        ``password`` already: a change revokes the user's tokens.
        """
        project_id = self.project(project)
        body = {'name': name, 'password': password, 'domain_id': 'default',
                'default_project_id': project_id}
        user = self._find('users', name=name, domain_id='default')
        if user is None:
            user = self._call('POST', '/users', json={'user': body})['user']
        elif not self._password_works(user['id'], password):
            self._call('PATCH', '/users/%s' % user['id'],
                       json={'user': {'password': password}})
        for role in roles:
            self._call('PUT', '/projects/%s/users/%s/roles/%s'
                       % (project_id, user['id'], self.role(role)))
        return user['id']

    def _password_works(self, user_id, password):
        body = {'auth': {'identity': {'methods': ['password'], 'password': {
            'user': {'id': user_id, 'password': password}}}}}
        resp = self.session.post(self.auth_url + '/auth/tokens', json=body,
                                 authenticated=False, raise_exc=False)
        return resp.status_code == 201

    def endpoint(self, service_type, name, url, region=REGION):
        """Register (or move) the public and internal endpoints of a
        service in ``region`` of the catalog."""
        if self.session.get('%s/regions/%s' % (self.auth_url, region),
                            raise_exc=False).status_code == 404:
            self._call('POST', '/regions', json={'region': {'id': region}},
                       raise_exc=False)    # 409: made meanwhile
        service = self._ensure('services', 'service',
                               {'type': service_type, 'name': name},
                               type=service_type)
        for interface in ('public', 'internal'):
            found = self._find('endpoints', service_id=service['id'],
                               interface=interface, region_id=region)
            body = {'service_id': service['id'], 'interface': interface,
                    'url': url, 'region_id': region}
            if found is None:
                self._call('POST', '/endpoints', json={'endpoint': body})
            elif found['url'] != url:
                self._call('PATCH', '/endpoints/%s' % found['id'],
                           json={'endpoint': {'url': url}})
        return service['id']

    def remove_endpoints(self, service_type, region):
        """Remove a service's endpoints in ``region``, and the region."""
        service = self._find('services', type=service_type)
        if service is not None:
            found = self._call('GET', '/endpoints', params={
                'service_id': service['id'], 'region_id': region})
            for endpoint in found['endpoints']:
                self._call('DELETE', '/endpoints/%s' % endpoint['id'])
        self._call('DELETE', '/regions/%s' % region, raise_exc=False)


def application_credential(auth_url, username, password, project, name):
    """Make (again) ``name``, an application credential of that user on
    that project; returns (id, secret)."""
    sess = password_session(auth_url, username, password, project)
    user_id = sess.get_user_id()
    base = '%s/users/%s/application_credentials' % (auth_url, user_id)
    found = sess.get(base, params={'name': name}).json()
    for cred in found['application_credentials']:
        sess.delete('%s/%s' % (base, cred['id']))
    cred = sess.post(base, json={'application_credential': {
        'name': name}}).json()['application_credential']
    return cred['id'], cred['secret']
