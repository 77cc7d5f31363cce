"""The real ``migrator`` command with keystone: from the OS_* variables,
from clouds.yaml (--os-cloud), with a password and with an application
credential; the endpoint from the catalog.

The API (keystonemiddleware validating against the run's keystone) is
served by the built-in server on a free port, in front of the real
conductor and volume worker of tests.functional (fake transport,
SQLite); the CLI runs as a process of its own.
"""

import json
import os
import subprocess
import sys

import yaml

from migrator_api.api import app as api_app
from migrator_api.cmd import wsgi_server
from migrator_api.common import threads
from migrator_testing import keystone
from tests.functional.flows import base as flows
from tests.integration.keystone import base

MIGRATOR = os.path.join(os.path.dirname(sys.executable), 'migrator')
MiB = flows.MiB


class CLITest(flows.FlowTestCase):

    def setUp(self):
        super().setUp()
        self.keystone = base.server()
        base.KeystoneAPITestCase.use_keystone(self, self.keystone)
        httpd = wsgi_server.make_server(
            '127.0.0.1', 0, api_app.setup_app(self.conf), 16, 10)
        threads.spawn('test-wsgi', httpd.serve_forever)
        self.addCleanup(httpd.server_close)
        self.addCleanup(httpd.shutdown)
        # The catalog has this process's API in a region of its own.
        self.region = 'mig-test-%d' % os.getpid()
        admin = self.keystone.admin()
        admin.endpoint(keystone.SERVICE_TYPE, 'migrator',
                       'http://127.0.0.1:%d' % httpd.server_port,
                       region=self.region)
        self.addCleanup(admin.remove_endpoints, keystone.SERVICE_TYPE,
                        self.region)
        self.home = os.path.join(self.state_path, 'home')
        os.makedirs(os.path.join(self.home, '.config', 'openstack'))

    def credentials(self, persona, password=base.PASSWORD):
        user, project, _roles = base.PERSONAS[persona]
        return {'auth_url': self.keystone.url, 'username': user,
                'password': password, 'project_name': project,
                'user_domain_name': 'Default',
                'project_domain_name': 'Default'}

    def app_credential(self, persona):
        user, project, _roles = base.PERSONAS[persona]
        cred_id, secret = keystone.application_credential(
            self.keystone.url, user, base.PASSWORD, project,
            'migrator-cli-%d' % os.getpid())
        return {'auth_url': self.keystone.url,
                'application_credential_id': cred_id,
                'application_credential_secret': secret}

    def write_clouds(self, **clouds):
        """~/.config/openstack/clouds.yaml (a standard location)."""
        path = os.path.join(self.home, '.config', 'openstack', 'clouds.yaml')
        with open(path, 'w') as f:
            yaml.safe_dump({'clouds': clouds}, f)

    def cloud(self, auth, auth_type='password'):
        return {'auth': auth, 'auth_type': auth_type,
                'region_name': self.region, 'interface': 'public'}

    def run_cli(self, *argv, env=None):
        """``migrator ARGV`` with only ``env`` of the OS_* variables and
        no MIGRATOR_ENDPOINT: (exit status, stdout, stderr)."""
        clean = {k: v for k, v in os.environ.items()
                 if not k.startswith('OS_') and k != 'MIGRATOR_ENDPOINT'}
        clean.update(HOME=self.home, OS_REGION_NAME=self.region)
        clean.update(env or {})
        proc = subprocess.run([MIGRATOR] + list(argv), env=clean,
                              cwd=self.state_path, capture_output=True,
                              text=True, timeout=120)
        return proc.returncode, proc.stdout, proc.stderr

    def run_json(self, *argv, env=None):
        rc, out, err = self.run_cli('-f', 'json', *argv, env=env)
        self.assertEqual(0, rc, out + err)
        return json.loads(out)

    @staticmethod
    def os_env(auth, auth_type='password'):
        env = {'OS_' + k.upper(): v for k, v in auth.items()}
        env['OS_AUTH_TYPE'] = auth_type
        return env

    def test_os_variables_with_a_password(self):
        env = self.os_env(self.credentials('admin'))
        vol = self.run_json('volume', 'create', '--size', '8M', '--backend',
                            'file1', '--wait', env=env)
        expected = self.write_pattern(self.path_of(vol), 8 * MiB, seed=7)
        rc, out, err = self.run_cli('migrate', vol['id'], 'file2', '--wait',
                                    '--poll-interval', '0.3', env=env)
        self.assertEqual(0, rc, out + err)
        self.assertTrue(out.startswith('Your migration request has been '
                                       'received.'), out)
        self.assertIn('succeeded', out.splitlines()[-1])
        after = self.run_json('volume', 'show', vol['id'], env=env)
        self.assertEqual('file2', after['backend'])
        self.assert_same_bytes(expected, self.path_of(after))
        services = self.run_json('service', 'list', env=env)
        self.assertIn('migrator-volume', {s['binary'] for s in services})

    def test_clouds_yaml_with_a_password(self):
        self.write_clouds(operator=self.cloud(self.credentials('admin')),
                          alpha=self.cloud(self.credentials('member')))
        rc, out, err = self.run_cli('--os-cloud', 'operator', 'backend',
                                    'list')
        self.assertEqual(0, rc, err)
        self.assertIn('file1', out)
        vol = self.run_json('--os-cloud', 'alpha', 'volume', 'create',
                            '--size', '1M', '--backend', 'file1', '--wait')
        member = base.token('member')[1]
        self.assertEqual(member.project_id, vol['project_id'])
        self.assertNotIn('migration_status', vol)
        # OS_CLOUD works as --os-cloud does.
        listed = self.run_json('volume', 'list', env={'OS_CLOUD': 'alpha'})
        self.assertEqual([vol['id']], [v['id'] for v in listed])

    def test_application_credentials(self):
        auth = self.app_credential('member')
        env = self.os_env(auth, 'v3applicationcredential')
        vol = self.run_json('volume', 'create', '--size', '1M', '--backend',
                            'file1', '--wait', env=env)
        rc, out, err = self.run_cli('migrate', vol['id'], 'file2', env=env)
        self.assertEqual((1, ''), (rc, out))
        self.assertIn('Your migration request failed to process: Policy '
                      'does not allow migrator:migration:create', err)
        self.write_clouds(app=self.cloud(auth, 'v3applicationcredential'))
        listed = self.run_json('--os-cloud', 'app', 'volume', 'list')
        self.assertEqual([vol['id']], [v['id'] for v in listed])

    def test_bad_password_says_so_and_fails(self):
        env = self.os_env(self.credentials('admin', password='wrong'))
        rc, out, err = self.run_cli('volume', 'list', env=env)
        self.assertEqual((1, ''), (rc, out))
        self.assertIn('Error: keystone at %s refused the credentials'
                      % self.keystone.url, err)
        self.assertNotIn('Traceback', err)
        self.write_clouds(bad=self.cloud(self.credentials('member', 'nope')))
        rc, _out, err = self.run_cli('--os-cloud', 'bad', 'backend', 'list')
        self.assertEqual(1, rc)
        self.assertIn('refused the credentials', err)

    def test_unknown_cloud_or_region(self):
        rc, _out, err = self.run_cli('--os-cloud', 'nowhere', 'volume',
                                     'list')
        self.assertEqual(2, rc)
        self.assertIn('Cloud nowhere was not found', err)
        env = self.os_env(self.credentials('admin'))
        env['OS_REGION_NAME'] = 'no-such-region'
        rc, _out, err = self.run_cli('volume', 'list', env=env)
        self.assertEqual(1, rc)
        self.assertIn('no volume-migration endpoint', err)
