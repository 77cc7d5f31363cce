"""A deployment of real processes, as operators run it: two
migrator-conductor, a migrator-volume with two file backends and
migrator-api under uWSGI, over RabbitMQ (a virtual host of the test's
own) and MariaDB or PostgreSQL (a database of the test's own), all set
up by migrator_testing.services.  The test talks to it over HTTP, reads
the database directly and listens to the notifications on RabbitMQ.
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import fixtures
import oslo_messaging as messaging
import sqlalchemy as sa
from testtools import content

from migrator_testing import services
from tests.functional import servers

BIN = os.path.dirname(sys.executable)
REPO = servers.REPO
MiB = 1024 * 1024
#: Hang guard of every wait (never asserted as a duration).
WAIT = 120

#: What the tests tighten so that they run in seconds.
OPTIONS = {
    'conductor': {'service_down_time': 4, 'claim_timeout': 3,
                  'copy_report_timeout': 20, 'rpc_call_timeout': 30},
    'volume': {'report_interval': 1, 'migration_progress_report_interval': 1,
               'volume_copy_bps_limit': 8 * MiB},
    'oslo_messaging_notifications': {'driver': 'messagingv2'},
    # A consumer waits up to threshold / 6 seconds to see it is stopped.
    'oslo_messaging_rabbit': {'heartbeat_timeout_threshold': 6},
    'api': {'auth_strategy': 'noauth', 'host_ip': '127.0.0.1'},
}


def _ini(groups):
    out = []
    for group, opts in groups.items():
        out.append('[%s]' % group)
        out += ['%s = %s' % (k, v) for k, v in sorted(opts.items())]
    return '\n'.join(out) + '\n'


class Process:
    """One service process; its log is ``<state>/<name>.log``."""

    def __init__(self, name, argv, state_path, env=None):
        self.name = name
        self.out = os.path.join(state_path, '%s.out' % name)
        with open(self.out, 'a') as out:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, cwd=REPO,
                env=dict(os.environ, **(env or {})))

    @property
    def alive(self):
        return self.proc.poll() is None

    def kill(self, sig=signal.SIGKILL):
        if self.alive:
            self.proc.send_signal(sig)
        self.wait()

    def wait(self):
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Deployment(fixtures.Fixture):
    """:param database: 'mariadb' or 'postgresql'.
    :param conductors: {host: extra options} of the conductors.
    :param worker_env: environment of the volume worker (agent.py).
    :param worker_options: more ``[volume]`` options of the worker.
    """

    def __init__(self, test, database='mariadb', conductors=None,
                 worker_env=None, worker_options=None):
        super().__init__()
        self.test = test
        self.database = database
        self.conductors = conductors or {'cond1': {}, 'cond2': {}}
        self.worker_env = worker_env or {}
        self.worker_options = worker_options or {}
        self.procs = {}

    def _setUp(self):
        self.state = self.test.state_path
        name = 'mig_it_%s' % uuid.uuid4().hex[:12]
        self.transport_url = services.rabbitmq(vhost=name)
        self.addCleanup(services.drop_vhost, self.transport_url)
        make = {'mariadb': services.mariadb,
                'postgresql': services.postgresql}[self.database]
        self.db_url = make(database=name)
        self.addCleanup(services.drop_database, self.db_url)
        self.engine = sa.create_engine(self.db_url, poolclass=sa.pool.NullPool)
        self.addCleanup(self.engine.dispose)
        self.port = servers.free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.common = self._write('common', {
            'DEFAULT': {'transport_url': self.transport_url, 'debug': True},
            'database': {'connection': self.db_url},
            'api': dict(OPTIONS['api'], port=self.port)},
            extra=OPTIONS)
        self.test.addOnException(self._attach_logs)
        self.addCleanup(self._stop_all)
        subprocess.run([os.path.join(BIN, 'migrator-manage'), '--config-file',
                        self.common, 'db', 'sync'], check=True,
                       capture_output=True)
        for host, opts in self.conductors.items():
            self.start_conductor(host, opts)
        self.start_worker()
        self.start_api()
        self.wait_for(lambda: len(self.up_services()) ==
                      len(self.conductors) + 1, 'every service up')
        # A worker reports its service before its backends.
        self.wait_for(lambda: {'file1', 'file2'} <= self.up_backends(),
                      'the backends up')

    def up_backends(self):
        return {b['name'] for b in self.api('GET', '/v1/backends',
                                            expect=200)[1]['backends']
                if b['state'] == 'up'}

    def _write(self, name, groups, extra=None):
        merged = {}
        for source in (extra or {}), groups:
            for group, opts in source.items():
                merged.setdefault(group, {}).update(opts)
        path = os.path.join(self.state, '%s.conf' % name)
        with open(path, 'w') as f:
            f.write(_ini(merged))
        return path

    def _own_config(self, name, groups=None):
        state = os.path.join(self.state, name)
        os.makedirs(state, exist_ok=True)
        return self._write(name, dict({'DEFAULT': {
            'host': name, 'state_path': state,
            'log_file': os.path.join(self.state, '%s.log' % name)}},
            **(groups or {})))

    def _start(self, name, argv, groups=None, env=None):
        conf = self._own_config(name, groups)
        proc = Process(name, argv + ['--config-file', self.common,
                                     '--config-file', conf],
                       self.state, env)
        self.procs[name] = proc
        return proc

    def _stop_all(self):
        """SIGTERM to every process at once, then wait for them all."""
        for proc in self.procs.values():
            if proc.alive:
                proc.proc.terminate()
        for proc in self.procs.values():
            proc.wait()

    # -- the processes -------------------------------------------------

    def start_conductor(self, host, groups=None):
        return self._start(host, [os.path.join(BIN, 'migrator-conductor')],
                           groups)

    def start_worker(self, env=None):
        """The volume worker of host ``vol1``: backends file1, file2."""
        groups = {'volume': dict(self.worker_options,
                                 enabled_backends='file1,file2')}
        for backend in ('file1', 'file2'):
            groups[backend] = {'backend_type': 'file',
                               'file_path': os.path.join(self.state, backend)}
        return self._start(
            'vol1', [sys.executable, '-m', 'tests.integration.services.agent'],
            groups, env=dict(self.worker_env, **(env or {})))

    def start_api(self):
        proc = self._start('api', [os.path.join(BIN, 'migrator-api')])
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if not proc.alive:
                raise AssertionError('migrator-api exited with %s'
                                     % proc.proc.returncode)
            try:
                urllib.request.urlopen(self.url + '/v1/backends',
                                       timeout=5).read()
                return proc
            except OSError:
                time.sleep(0.2)
        raise AssertionError('migrator-api did not answer')

    def _attach_logs(self, exc_info):
        for name in sorted(self.procs):
            for suffix in ('log', 'out'):
                path = os.path.join(self.state, '%s.%s' % (name, suffix))
                if os.path.exists(path):
                    with open(path, errors='replace') as f:
                        tail = ''.join(f.readlines()[-60:])
                    self.test.addDetail('%s.%s' % (name, suffix),
                                        content.text_content(tail))

    # -- the API, the database ----------------------------------------

    def api(self, method, path, body=None, expect=None):
        """(status, JSON body) of a request to the API."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + path, data=data, method=method,
            headers={'Content-Type': 'application/json',
                     'Accept': 'application/json'})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        result = json.loads(raw) if raw else None
        if expect is not None and status != expect:
            raise AssertionError('%s %s: %s, not %s: %s'
                                 % (method, path, status, expect, result))
        return status, result

    def up_services(self):
        return [s for s in self.api('GET', '/v1/services', expect=200)[1]
                ['services'] if s['state'] == 'up']

    def row(self, sql, **params):
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).mappings().first()

    @staticmethod
    def wait_for(predicate, what, timeout=WAIT, interval=0.1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            time.sleep(interval)
        raise AssertionError('timed out waiting for %s' % what)

    # -- volumes and migrations ---------------------------------------

    def create_volume(self, size, backend='file1'):
        vol = self.api('POST', '/v1/volumes', {'volume': {
            'size': size, 'backend': backend}}, expect=202)[1]['volume']
        return self.wait_for(lambda: self._volume_in(vol['id'], 'available'),
                             'volume %s available' % vol['id'])

    def _volume_in(self, volume_id, status):
        vol = self.api('GET', '/v1/volumes/%s' % volume_id,
                       expect=200)[1]['volume']
        return vol if vol['status'] == status else None

    @staticmethod
    def path(volume):
        return volume['location']['data']['path']

    def write_pattern(self, volume):
        """Fill the volume with random data; the data."""
        data = os.urandom(volume['size'])
        with open(self.path(volume), 'r+b') as f:
            f.write(data)
        return data

    def migrate(self, volume_id, backend, expect=202):
        return self.api('POST', '/v1/migrations', {'migration': {
            'volume_id': volume_id, 'backend': backend}}, expect=expect)[1]

    def wait_migration(self, migration_id, timeout=WAIT):
        def ended():
            mig = self.api('GET', '/v1/migrations/%s' % migration_id,
                           expect=200)[1]['migration']
            return mig if mig['phase'] == 'done' else None
        return self.wait_for(ended, 'migration %s to end' % migration_id,
                             timeout, interval=0.2)


class Listener(fixtures.Fixture):
    """A notification listener on the deployment's RabbitMQ (the path
    Ceilometer takes): ``events`` are (priority, event_type, payload,
    timestamp) as they arrive."""

    def __init__(self, conf, transport_url):
        super().__init__()
        self.conf = conf
        self.transport_url = transport_url
        self.events = []

    def _setUp(self):
        transport = messaging.get_notification_transport(
            self.conf, url=self.transport_url)
        self.addCleanup(transport.cleanup)
        # Stopping the listener takes up to threshold / 6 seconds.
        self.conf.set_override('heartbeat_timeout_threshold', 6,
                               group='oslo_messaging_rabbit')
        self.addCleanup(self.conf.clear_override,
                        'heartbeat_timeout_threshold',
                        group='oslo_messaging_rabbit')
        listener = messaging.get_notification_listener(
            transport, [messaging.Target(topic='notifications')], [self],
            executor='threading')
        listener.start()
        self.addCleanup(listener.wait)
        self.addCleanup(listener.stop)

    def _record(self, priority, event_type, payload, metadata):
        self.events.append((priority, event_type, payload,
                            metadata.get('timestamp')))

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self._record('info', event_type, payload, metadata)

    def error(self, ctxt, publisher_id, event_type, payload, metadata):
        self._record('error', event_type, payload, metadata)

    def of(self, migration_id):
        return [e for e in self.events
                if e[2].get('migration_id') == migration_id]
