"""The API behind real HTTP servers, as real processes: the built-in
server of migrator-all (the embedded default) and uWSGI (the deployed
API, etc/migrator/api-uwsgi.ini).  For tests that need the server
itself: sockets, timeouts, slow clients, memory."""

import os
import socket
import subprocess
import sys
import time
import urllib.request

import fixtures

BIN = os.path.dirname(sys.executable)
VENV = os.path.dirname(BIN)
REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
UWSGI_INI = os.path.join(REPO, 'etc', 'migrator', 'api-uwsgi.ini')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def rss_kib(pids):
    """Resident memory of the processes, KiB."""
    total = 0
    for pid in pids:
        try:
            with open('/proc/%d/status' % pid) as f:
                for line in f:
                    if line.startswith('VmRSS:'):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def children(pid):
    """``pid`` and every process below it."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            with open('/proc/%d/task/%d/children' % (p, p)) as f:
                todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


class _Server(fixtures.Fixture):
    """A server process on a free port of 127.0.0.1; ``url``, ``pids``.

    ``api_opts``: [api] options; ``sections``: more options, {section:
    {option: value}}; ``ready_headers``: sent with the request that
    tells the server is up (a token when it validates them).
    """

    #: [api] options the tests tighten so that they run in seconds.
    API_OPTS = {'auth_strategy': 'noauth', 'request_body_timeout': 2,
                'client_socket_timeout': 3}

    def __init__(self, state_path, sections=None, ready_headers=None,
                 **api_opts):
        super().__init__()
        self.state_path = state_path
        self.api_opts = dict(self.API_OPTS, **api_opts)
        self.sections = sections or {}
        self.ready_headers = ready_headers or {}

    def _config(self, extra=''):
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        path = os.path.join(self.state_path, 'migrator.conf')
        api = ''.join('%s = %s\n' % kv for kv in sorted(self.api_opts.items()))
        for name, opts in sorted(self.sections.items()):
            extra += '[%s]\n%s' % (name, ''.join(
                '%s = %s\n' % kv for kv in sorted(opts.items())))
        with open(path, 'w') as f:
            f.write('[DEFAULT]\nstate_path = %s\nlog_file = %s\n'
                    '[api]\nport = %d\n%s%s'
                    % (self.state_path,
                       os.path.join(self.state_path, 'migrator.log'),
                       self.port, api, extra))
        return path

    def _wait_up(self, proc):
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError('%s exited with %s' % (self.name,
                                                          proc.returncode))
            try:
                urllib.request.urlopen(urllib.request.Request(
                    self.url + '/v1/backends', headers=self.ready_headers),
                    timeout=5).read()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError('%s did not answer on %s' % (self.name, self.url))

    def _start(self, cmd, env=None):
        log = open(os.path.join(self.state_path, '%s.out' % self.name), 'w')
        self.addCleanup(log.close)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=subprocess.STDOUT,
                                     env=dict(os.environ, **(env or {})))
        self.addCleanup(self._stop)
        self._wait_up(self.proc)

    def _stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    @property
    def pids(self):
        return children(self.proc.pid)


class EmbeddedServer(_Server):
    """migrator-all: its built-in server, as the README's demo runs it."""

    name = 'migrator-all'

    def _setUp(self):
        conf = self._config('[compute]\ndriver = libvirt-offline\n')
        self._start([os.path.join(BIN, 'migrator-all'), '--config-file',
                     conf])


class UwsgiServer(_Server):
    """The API alone under uWSGI with the shipped ini file, on a SQLite
    database made by migrator-manage (no conductor: reads only)."""

    name = 'uwsgi'

    def _setUp(self):
        conf = self._config('[database]\nconnection = sqlite:///%s\n'
                            % os.path.join(self.state_path, 'api.sqlite'))
        subprocess.run([os.path.join(BIN, 'migrator-manage'),
                        '--config-file', conf, 'db', 'sync'], check=True,
                       capture_output=True)
        self._start(['uwsgi', '--ini', UWSGI_INI, '--virtualenv', VENV,
                     '--http-socket', '127.0.0.1:%d' % self.port,
                     '--socket-timeout',
                     str(self.api_opts['client_socket_timeout'])],
                    env={'OS_MIGRATOR_CONFIG_DIR': self.state_path})
