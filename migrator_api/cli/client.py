"""A small REST client of the migrator API on a keystoneauth1 session.

With OS_AUTH_URL (or --os-auth-url) it authenticates against keystone
and finds the endpoint in the catalog (service type
``volume-migration``); without, it talks to --os-endpoint (default the
embedded default's http://127.0.0.1:8780) with no authentication.
"""

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading
from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session

SERVICE_TYPE = 'volume-migration'
DEFAULT_ENDPOINT = 'http://127.0.0.1:8780'


class ApiError(Exception):
    """An error answer of the API (its API-SIG detail) or no answer."""

    def __init__(self, status, detail):
        super().__init__(detail)
        self.status = status
        self.detail = detail


def make_session(args):
    if getattr(args, 'os_auth_url', None):
        auth = loading.load_auth_from_argparse_arguments(args)
        sess = loading.load_session_from_argparse_arguments(args, auth=auth)
        return Client(sess, endpoint=args.os_endpoint)
    sess = ks_session.Session(auth=noauth.NoAuth())
    return Client(sess, endpoint=args.os_endpoint or DEFAULT_ENDPOINT)


class Client:

    def __init__(self, session, endpoint=None):
        self.session = session
        self.endpoint = endpoint

    def _request(self, method, path, body=None, params=None):
        kwargs = {'raise_exc': False, 'headers': {'Accept':
                                                  'application/json'}}
        if self.endpoint:
            kwargs['endpoint_override'] = self.endpoint.rstrip('/')
        kwargs['endpoint_filter'] = {'service_type': SERVICE_TYPE,
                                     'interface': 'public'}
        if body is not None:
            kwargs['json'] = body
        if params:
            kwargs['params'] = params
        try:
            resp = self.session.request(path, method, **kwargs)
        except ks_exc.ConnectFailure as exc:
            raise ApiError(None, 'cannot reach the migrator API at %s: %s'
                           % (self.endpoint or 'the catalog endpoint', exc))
        except ks_exc.ClientException as exc:
            raise ApiError(None, str(exc))
        if resp.status_code >= 400:
            raise ApiError(resp.status_code, _error_detail(resp))
        if resp.status_code == 204 or not resp.content:
            return None
        return resp.json()

    def get(self, path, params=None):
        return self._request('GET', path, params=params)

    def post(self, path, body=None):
        return self._request('POST', path, body=body)

    def delete(self, path):
        return self._request('DELETE', path)


def _error_detail(resp):
    try:
        errors = resp.json()['errors']
        return '; '.join(e.get('detail') or e.get('title') for e in errors)
    except Exception:
        return 'HTTP %s: %s' % (resp.status_code, resp.text[:200])
