"""tools/deploy.sh as an operator runs it: ``up`` (on PostgreSQL here;
the multi-host suite, test_multihost, runs on MariaDB), migrations
between hosts with every byte compared, ``status``, ``up`` again,
``down``, and nothing of the deployment left afterwards.

The deployment of this test has its own state directory, namespace
prefix and subnet (MIGRATOR_DEPLOY_*), so that it never meets a
deployment someone made by hand; RabbitMQ and MariaDB, which other
tests share, are left running (``down --keep-services``).
"""

import json
import os
import subprocess
import sys

from migrator_testing import netns
from tests import base
from tests.functional.flows import base as flows
from tests.integration.deploy import config_check

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
DEPLOY = os.path.join(REPO, 'tools', 'deploy.sh')
MIGRATOR = os.path.join(os.path.dirname(sys.executable), 'migrator')
PREFIX, SUBNET = 'mgt', '10.76.0'
MiB = 1024 * 1024
SIZE = 24 * MiB


class DeployTest(base.TestCase):

    TIMEOUT = 900

    def setUp(self):
        super().setUp()
        self.state = os.path.join(self.state_path, 'deploy')
        self.env = dict(os.environ, MIGRATOR_DEPLOY_STATE=self.state,
                        MIGRATOR_DEPLOY_PREFIX=PREFIX,
                        MIGRATOR_DEPLOY_SUBNET=SUBNET)
        for key in list(self.env):
            if key.startswith('OS_') or key == 'MIGRATOR_ENDPOINT':
                del self.env[key]
        # Whatever happens, nothing of the deployment outlives the test.
        self.addCleanup(self.deploy, 'down', '--keep-services', check=False)
        self.addOnException(self.attach_logs)

    def attach_logs(self, exc_info):
        """The end of every log of the deployment (kept by down)."""
        logs = os.path.join(self.state, 'logs')
        for directory, _dirs, files in os.walk(logs):
            for name in sorted(files):
                path = os.path.join(directory, name)
                with open(path, errors='replace') as f:
                    text = ''.join(f.readlines()[-40:])
                self.addDetail(os.path.relpath(path, logs),
                               base.testtools.content.text_content(text))

    def deploy(self, *args, check=True, timeout=600):
        proc = subprocess.run(['bash', DEPLOY] + list(args), env=self.env,
                              stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout)
        out = proc.stdout + proc.stderr
        self.addDetail('deploy %s' % ' '.join(args),
                       base.testtools.content.text_content(out))
        if check:
            self.assertEqual(0, proc.returncode, out)
        return out

    def cli(self, *argv):
        proc = subprocess.run([MIGRATOR] + list(argv), env=self.os_env,
                              stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=300)
        self.assertEqual(0, proc.returncode, proc.stdout + proc.stderr)
        return proc.stdout

    def cli_json(self, *argv):
        return json.loads(self.cli('-f', 'json', *argv))

    def migrate_and_compare(self, volume, dest, expected):
        out = self.cli('migrate', volume, dest, '--wait', '--poll-interval',
                       '0.5')
        self.assertIn('now lives on backend %s' % dest, out)
        after = self.cli_json('volume', 'show', volume)
        self.assertEqual((dest, 'success'), (after['backend'],
                                             after['migration_status']))
        path = flows.FlowTestCase.path_of(after)
        self.assertTrue(path.startswith(self.state) or
                        path.startswith('/dev/loop'), path)
        self.assertEqual(expected, flows.FlowTestCase.read_all(path, SIZE))
        return after

    def test_up_migrate_between_hosts_status_down(self):
        out = self.deploy('up', '--database', 'postgresql')
        self.assertIn('== postgresql: database of this deployment', out)
        self.assertIn('== migrator is up in', out)
        self.assertIn('export OS_AUTH_URL=http://%s.1:5000/v3' % SUBNET, out)
        record = self.record()
        hosts = ('ctl1', 'ctl2', 'vol1', 'vol2', 'cmp1', 'cmp2')
        for host in hosts:     # each host's own file, only real options
            path = os.path.join(self.state, host, 'migrator.conf')
            self.assertEqual([], config_check.problems(path), path)
            with open(path) as f:
                text = f.read()
            self.assertIn('host = %s\n' % host, text)
            if host.startswith('ctl'):
                self.assertIn('connection = postgresql+psycopg2://', text)
        with open(os.path.join(self.state, 'openrc')) as f:
            self.os_env = dict(self.env, **dict(
                line.split(' ', 1)[1].strip().split('=', 1) for line in f))

        backends = {b['name']: b for b in self.cli_json('backend', 'list')}
        self.assertEqual({'vol1-file': 'vol1', 'vol1-block': 'vol1',
                          'vol2-file': 'vol2', 'vol2-block': 'vol2'},
                         {n: b['host'] for n, b in backends.items()})
        vol = self.cli_json('volume', 'create', '--size', str(SIZE),
                            '--backend', 'vol1-file', '--wait')
        expected = flows.FlowTestCase.write_pattern(
            flows.FlowTestCase.path_of(vol), SIZE, seed=11,
            holes=[(4 * MiB, 2 * MiB)])
        # vol1 -> vol2 (file to file over NBD), then vol2 -> vol1's
        # block backend (file to loop device over NBD).
        self.migrate_and_compare(vol['id'], 'vol2-file', expected)
        self.migrate_and_compare(vol['id'], 'vol1-block', expected)

        status = self.deploy('status')
        for host in hosts:
            self.assertIn('netns %s-%s\n' % (PREFIX, host), status)
        self.assertNotIn('NOT RUNNING', status)
        self.assertEqual(6, status.count(' up '), status)

        self.deploy('up', '--database', 'postgresql')  # nothing restarted
        self.assertEqual(record['procs'], self.record()['procs'])

        self.deploy('down', '--keep-services')
        self.assertNothingLeft(record)

    def record(self):
        with open(os.path.join(self.state, 'deploy.json')) as f:
            return json.load(f)

    def assertNothingLeft(self, record):
        self.assertEqual([], [ns for ns in netns.namespaces()
                              if ns.startswith(PREFIX + '-')])
        self.assertNotEqual(0, subprocess.run(
            ['ip', 'link', 'show', '%s-br' % PREFIX],
            capture_output=True).returncode)
        self.assertEqual([], self.processes_of(self.state))
        # (keystone, libvirtd and every service name the state directory
        # on their command lines: none is left above.)
        for device, backing in record['loops']:
            self.assertNotEqual(backing, self.backing_file(device))

    @staticmethod
    def backing_file(device):
        try:
            with open('/sys/block/%s/loop/backing_file'
                      % os.path.basename(device)) as f:
                return f.read().strip()
        except OSError:
            return None

    @staticmethod
    def processes_of(directory):
        """Live processes whose command line names ``directory``."""
        found = []
        for pid in filter(str.isdigit, os.listdir('/proc')):
            try:
                with open('/proc/%s/stat' % pid) as f:
                    if f.read().rsplit(')', 1)[1].split()[0] == 'Z':
                        continue
                with open('/proc/%s/cmdline' % pid, 'rb') as f:
                    if directory.encode() in f.read():
                        found.append(int(pid))
            except (OSError, IndexError):
                pass
        return found
