"""The API behind real keystonemiddleware, against a real keystone.

One keystone serves the whole test run (shared.SharedKeystone: the
first test process starts it, the last one stops it).  Its users are
the personas of the policy defaults:

    admin    role admin (implies manager, member, reader) on mig-ops
    member   role member (implies reader) on mig-alpha
    reader   role reader on mig-alpha
    other    role member on mig-beta
    migrator role service on service: the API's own user, with which
             keystonemiddleware validates tokens
"""

import os

from keystoneauth1 import loading
import webtest

from migrator_api.api import app as api_app
from migrator_testing import keystone
from tests.functional.api import base as api_base
from tests.integration.keystone import shared

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
SERVER = shared.SharedKeystone(os.path.join(REPO, 'state', 'tests',
                                            'keystone'))
PASSWORD = 'migrator-test-secret'
#: persona: (user, project, roles granted)
PERSONAS = {
    'admin': ('mig-operator', 'mig-ops', ['admin']),
    'member': ('mig-alpha-member', 'mig-alpha', ['member']),
    'reader': ('mig-alpha-reader', 'mig-alpha', ['reader']),
    'other': ('mig-beta-member', 'mig-beta', ['member']),
}
SERVICE_USER = ('migrator', 'service', ['service'])

_TOKENS = {}


def _prepare(server):
    admin = server.admin()
    for user, project, roles in list(PERSONAS.values()) + [SERVICE_USER]:
        admin.user(user, PASSWORD, project, roles)


def server():
    """The run's keystone, with its users (started if need be)."""
    return SERVER.acquire(_prepare)


def session(persona):
    user, project, _roles = PERSONAS[persona]
    return keystone.password_session(server().url, user, PASSWORD, project)


def token(persona):
    """(token, access info) of ``persona``, one per test process."""
    if persona not in _TOKENS:
        sess = session(persona)
        access = sess.auth.get_access(sess)
        _TOKENS[persona] = (access.auth_token, access)
    return _TOKENS[persona]


def authtoken_options(url):
    """[keystone_authtoken] of an API that validates tokens at ``url``
    with the migrator service user (no memcached: keystonemiddleware's
    in-process cache)."""
    user, project, _roles = SERVICE_USER
    return {'www_authenticate_uri': url, 'auth_url': url,
            'auth_type': 'password', 'username': user, 'password': PASSWORD,
            'project_name': project, 'user_domain_name': 'Default',
            'project_domain_name': 'Default'}


class KeystoneAPITestCase(api_base.APITestCase):
    """APITestCase whose ``kapp`` is the API app with keystonemiddleware
    validating real tokens (``[api] auth_strategy = keystone``)."""

    def setUp(self):
        super().setUp()
        self.keystone = server()
        self.use_keystone(self, self.keystone)
        self.kapp = webtest.TestApp(api_app.setup_app(self.conf))

    @staticmethod
    def use_keystone(test, server):
        """Set ``test``'s configuration for an app validating tokens at
        ``server``."""
        test.flags(auth_strategy='keystone', group='api')
        # The password plugin's options (auth_url is required) must not
        # outlive the test in the global configuration: registered here,
        # keystonemiddleware finds them and the fixture removes them.
        test.conf_fixture.register_opts(
            loading.get_auth_plugin_conf_options('password'),
            group='keystone_authtoken')
        test.conf_fixture.load_raw_values(
            group='keystone_authtoken', **authtoken_options(server.url))

    def headers(self, persona):
        if persona is None:
            return {}
        return {'X-Auth-Token': token(persona)[0]}

    def project_id(self, persona):
        return token(persona)[1].project_id
