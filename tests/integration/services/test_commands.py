"""migrator-api's uwsgi command line, and the configuration its
workers read (the real processes run in the other tests here)."""

import os
import sys

import fixtures

from migrator_api.cmd import api as api_cmd
from migrator_api.wsgi import api as wsgi_api
from tests import base


class TestApiCommand(base.TestCase):

    def setUp(self):
        super().setUp()
        self.conf_file = os.path.join(self.state_path, 'migrator.conf')
        with open(self.conf_file, 'w') as f:
            f.write('[api]\nport = 8999\n')
        self.conf([], project='migrator', default_config_files=[
            self.conf_file])

    def test_argv(self):
        self.flags(host_ip='10.77.0.2', client_socket_timeout=2.5,
                   group='api')
        argv = api_cmd.uwsgi_argv(self.conf)
        self.assertEqual('uwsgi', argv[0])
        self.assertEqual(['--http-socket', '10.77.0.2:8999'],
                         argv[argv.index('--http-socket'):][:2])
        self.assertEqual(['--socket-timeout', '3'],
                         argv[argv.index('--socket-timeout'):][:2])
        self.assertEqual(['--env', 'OS_MIGRATOR_CONFIG_FILE=%s'
                          % self.conf_file],
                         argv[argv.index('--env'):][:2])
        self.assertTrue(argv[argv.index('--ini') + 1].endswith(
            os.path.join('etc', 'migrator', 'api-uwsgi.ini')))
        if sys.prefix != sys.base_prefix:
            self.assertEqual(sys.prefix, argv[argv.index('--virtualenv')
                                              + 1])

    def test_config_dir_passed_on(self):
        conf_d = os.path.join(self.state_path, 'migrator.conf.d')
        os.mkdir(conf_d)
        self.conf(['--config-dir', conf_d], project='migrator',
                  default_config_files=[self.conf_file])
        argv = api_cmd.uwsgi_argv(self.conf)
        envs = [argv[i + 1] for i, a in enumerate(argv) if a == '--env']
        self.assertIn('OS_MIGRATOR_CONFIG_DIRS=%s' % conf_d, envs)

    def test_ipv6_address_in_brackets(self):
        self.flags(host_ip='::1', group='api')
        argv = api_cmd.uwsgi_argv(self.conf)
        self.assertEqual('[::1]:8999', argv[argv.index('--http-socket') + 1])

    def test_ini_beside_the_configuration_first(self):
        beside = os.path.join(self.state_path, api_cmd.INI)
        open(beside, 'w').close()
        self.assertEqual(beside, api_cmd.find_ini([self.conf_file]))
        os.unlink(beside)
        self.assertNotEqual(beside, api_cmd.find_ini([self.conf_file]))


class TestWsgiConfigFiles(base.TestCase):

    def test_config_file_variable_first(self):
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_MIGRATOR_CONFIG_FILE', '/a.conf,/b.conf'))
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_MIGRATOR_CONFIG_DIR', self.state_path))
        self.assertEqual(['/a.conf', '/b.conf'], wsgi_api._config_files())

    def test_config_dirs_variable(self):
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_MIGRATOR_CONFIG_DIRS', '/d1,/d2'))
        self.assertEqual(['/d1', '/d2'], wsgi_api._config_dirs())
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_MIGRATOR_CONFIG_DIRS', None))
        self.assertIsNone(wsgi_api._config_dirs())

    def test_config_dir_without_file_variable(self):
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_MIGRATOR_CONFIG_FILE', None))
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_MIGRATOR_CONFIG_DIR', self.state_path))
        self.assertEqual([], wsgi_api._config_files())
