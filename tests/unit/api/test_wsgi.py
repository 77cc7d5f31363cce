"""migrator_api.wsgi.api: the entry point uwsgi and gunicorn call."""

import os
import sys
from unittest import mock

import fixtures
import webtest

from migrator_api.common import config
from migrator_api.common import rpc
from migrator_api.db import api as db_api
from migrator_api.db import migration
from migrator_api import policy
from migrator_api.wsgi import api as wsgi_api
from tests import base

CONF_TEMPLATE = """
[DEFAULT]
state_path = %(state)s
transport_url = fake:/
[api]
auth_strategy = noauth
max_limit = 7
[database]
connection = sqlite:///%(state)s/wsgi.sqlite
[oslo_messaging_notifications]
driver = noop
"""


class InitApplicationTest(base.TestCase):

    def setUp(self):
        super().setUp()
        conf_dir = self.useFixture(fixtures.TempDir()).path
        with open(os.path.join(conf_dir, 'migrator.conf'), 'w') as f:
            f.write(CONF_TEMPLATE % {'state': self.state_path})
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_MIGRATOR_CONFIG_DIR', conf_dir))
        # The server's own arguments must not reach oslo.config.
        self.useFixture(fixtures.MonkeyPatch(
            'sys.argv', ['uwsgi', '--http', ':8780', '--die-on-term']))
        # Keep the test runner's logging as it is.
        self.useFixture(fixtures.MockPatchObject(config.logging, 'setup'))
        for cleanup in (rpc.cleanup, db_api.dispose, policy.reset):
            self.addCleanup(cleanup)
        self.addCleanup(setattr, wsgi_api, '_APPLICATION', None)
        wsgi_api._APPLICATION = None
        # As in a fresh server process: nothing parsed the configuration.
        self.conf.clear()

    def test_init_application(self):
        application = wsgi_api.init_application()
        self.assertIs(application, wsgi_api.init_application())
        self.assertEqual(7, self.conf.api.max_limit)
        self.assertEqual(['uwsgi', '--http', ':8780', '--die-on-term'],
                         sys.argv)
        self.assertTrue(rpc.initialized())
        migration.upgrade()
        app = webtest.TestApp(application)
        self.assertEqual('v1', app.get('/').json['versions'][0]['id'])
        self.assertEqual([], app.get('/v1/backends').json['backends'])
        self.assertTrue(os.path.exists(os.path.join(self.state_path,
                                                    'wsgi.sqlite')))

    def test_missing_config_dir_file(self):
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_MIGRATOR_CONFIG_DIR', self.state_path))
        with mock.patch.object(config, 'parse_args',
                               side_effect=RuntimeError('stop')) as parse:
            self.assertRaises(RuntimeError, wsgi_api.init_application)
        parse.assert_called_once_with([], default_config_files=[],
                                      default_config_dirs=None)
