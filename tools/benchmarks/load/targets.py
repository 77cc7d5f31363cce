"""Where the load benchmark runs: the embedded default (migrator-all, one
process, SQLite, file backends ``file1`` and ``file2``) or the deployed
mode (``tools/deploy.sh up`` of a deployment of its own: two volume
hosts, MariaDB, RabbitMQ, keystone).  Each gives the API's endpoint, the
headers of a request (a keystone token in the deployed mode) and the
pairs of backends the migrations go between."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

from benchmarks import common

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
BIN = os.path.dirname(sys.executable)


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _ini(groups):
    out = []
    for group, opts in groups.items():
        out.append('[%s]' % group)
        out += ['%s = %s' % kv for kv in sorted(opts.items())]
    return '\n'.join(out) + '\n'


def _merge(groups, options):
    """``options``: GROUP.NAME=VALUE strings (``--opt``) over ``groups``."""
    for item in options:
        key, value = item.split('=', 1)
        group, name = key.rsplit('.', 1) if '.' in key else ('DEFAULT', key)
        groups.setdefault(group, {})[name] = value
    return groups


class Embedded:
    """migrator-all in a process of its own, as the demo runs it."""

    name = 'embedded'

    def __init__(self, directory, options=()):
        self.dir = os.path.join(directory, 'embedded')
        self.options = options
        self.proc = None
        self.headers = {}
        #: (source, destination) backends of the migrations, in turn.
        self.pairs = [('file1', 'file2')]

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        port = _free_port()
        self.endpoint = 'http://127.0.0.1:%d' % port
        conf = os.path.join(self.dir, 'migrator.conf')
        with open(conf, 'w') as f:
            f.write(_ini(_merge({
                'DEFAULT': {'state_path': self.dir, 'log_file': os.path.join(
                    self.dir, 'migrator.log')},
                'api': {'port': port}}, self.options)))
        with open(os.path.join(self.dir, 'migrator.out'), 'w') as out:
            self.proc = subprocess.Popen(
                [os.path.join(BIN, 'migrator-all'), '--config-file', conf],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        self._wait_up()
        return self

    def _wait_up(self):
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise common.BenchError('migrator-all exited (see %s)'
                                        % self.dir)
            try:
                with urllib.request.urlopen(self.endpoint + '/v1/backends',
                                            timeout=5) as r:
                    up = {b['name'] for b in json.load(r)['backends']
                          if b['state'] == 'up'}
                if up >= {name for pair in self.pairs for name in pair}:
                    return
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.3)
        raise common.BenchError('migrator-all did not come up')

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Deployed:
    """A deployment of tools/deploy.sh of its own (prefix ``mgl``,
    10.74.0.0/24), taken down at the end.  Migrations go both ways
    between the two volume hosts' file backends, so that both workers
    copy."""

    name = 'deployed'
    PREFIX, SUBNET = 'mgl', '10.74.0'

    def __init__(self, directory, options=()):
        self.state = os.path.join(directory, 'deploy')
        self.options = options
        self.pairs = [('vol1-file', 'vol2-file'), ('vol2-file', 'vol1-file')]
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith('OS_') and k != 'MIGRATOR_ENDPOINT'}
        self.env.update(MIGRATOR_DEPLOY_STATE=self.state,
                        MIGRATOR_DEPLOY_PREFIX=self.PREFIX,
                        MIGRATOR_DEPLOY_SUBNET=self.SUBNET)

    def _deploy(self, *args):
        proc = subprocess.run(['bash', os.path.join(REPO, 'tools',
                                                    'deploy.sh')] + list(args),
                              env=self.env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=1800)
        if proc.returncode:
            raise common.BenchError('deploy.sh %s failed:\n%s' % (
                ' '.join(args), proc.stdout + proc.stderr))
        return proc.stdout

    def start(self):
        os.makedirs(self.state, exist_ok=True)
        args = ['up']
        if self.options:
            extra = os.path.join(os.path.dirname(self.state), 'extra.conf')
            with open(extra, 'w') as f:
                f.write(_ini(_merge({}, self.options)))
            args += ['--extra-conf', extra]
        common.log('deploying (tools/deploy.sh up, prefix %s)', self.PREFIX)
        self._deploy(*args)
        self._login()
        return self

    def _login(self):
        from deploy import client
        sess = client.session(self.state)
        self.headers = {'X-Auth-Token': sess.get_token()}
        self.endpoint = sess.get_endpoint(service_type='volume-migration',
                                          interface='public')

    def stop(self):
        try:
            self._deploy('down', '--keep-services')
        except common.BenchError as e:
            common.log('%s', e)


TARGETS = {'embedded': Embedded, 'deployed': Deployed}
