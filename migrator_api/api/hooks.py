"""Pecan hooks: the request context of every request."""

from oslo_config import cfg
import pecan
import webob.exc

from migrator_api.common import context
from migrator_api import policy

# Version discovery answers without a token.
PUBLIC_PATHS = ('/', '/v1', '/v1/')


def _unauthenticated(environ):
    """Whether a keystone-authenticated request lacks a valid token."""
    return (environ.get('HTTP_X_IDENTITY_STATUS') != 'Confirmed'
            or not environ.get('HTTP_X_USER_ID'))


class ContextHook(pecan.hooks.PecanHook):
    """Build ``pecan.request.context`` (a RequestContext).

    With ``[api] auth_strategy = keystone`` the identity comes from the
    headers keystonemiddleware sets after validating the token (it strips
    any the client sent); a request without a valid token gets a 401,
    except version discovery.  With ``noauth`` every request is an admin
    request (the embedded default); X-User-Id and X-Project-Id, when
    given, name the user and project.
    """

    priority = 10

    def __init__(self, conf):
        self.conf = conf
        self.auth_strategy = conf.api.auth_strategy

    def _challenge(self):
        try:
            uri = self.conf.keystone_authtoken.www_authenticate_uri
        except cfg.NoSuchOptError:
            uri = None
        return {'WWW-Authenticate': 'Keystone uri="%s"' % uri} if uri else {}

    def before(self, state):
        environ = state.request.environ
        environ['migrator.conf'] = self.conf
        if self.auth_strategy == 'noauth':
            ctxt = context.RequestContext.from_environ(
                environ, is_admin=True, roles=['admin', 'member', 'reader'],
                user_id=environ.get('HTTP_X_USER_ID', 'admin'),
                project_id=environ.get('HTTP_X_PROJECT_ID', 'admin'))
        else:
            if (state.request.path_info not in PUBLIC_PATHS
                    and _unauthenticated(environ)):
                raise webob.exc.HTTPUnauthorized(
                    detail='Authentication required: send a valid keystone '
                           'token in X-Auth-Token.',
                    headers=self._challenge())
            ctxt = context.RequestContext.from_environ(environ)
            ctxt.is_admin = policy.check(ctxt, 'context_is_admin', {})
        state.request.context = ctxt
