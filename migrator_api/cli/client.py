"""A small REST client of the migrator API on a keystoneauth1 session.

The session and the endpoint come from migrator_api.cli.auth: with
keystone the endpoint is found in the catalog (service type
``volume-migration``) unless given; without, the client talks to the
given endpoint (default the embedded default's http://127.0.0.1:8780)
with no authentication.
"""

from keystoneauth1 import exceptions as ks_exc

SERVICE_TYPE = 'volume-migration'
DEFAULT_ENDPOINT = 'http://127.0.0.1:8780'


class ApiError(Exception):
    """An error answer of the API (its API-SIG detail) or no answer."""

    def __init__(self, status, detail):
        super().__init__(detail)
        self.status = status
        self.detail = detail


class Client:

    def __init__(self, session, endpoint=None, interface='public',
                 region_name=None, auth_url=None):
        self.session = session
        self.endpoint = endpoint
        self.endpoint_filter = {'service_type': SERVICE_TYPE,
                                'interface': interface}
        if region_name:
            self.endpoint_filter['region_name'] = region_name
        self.auth_url = auth_url

    def _request(self, method, path, body=None, params=None):
        # One connection per request: a server that closes the
        # connection after its answer without saying so (uWSGI's plain
        # http-socket) would otherwise reset the next request sent on it.
        kwargs = {'raise_exc': False, 'headers': {
            'Accept': 'application/json', 'Connection': 'close'}}
        if self.endpoint:
            kwargs['endpoint_override'] = self.endpoint.rstrip('/')
        kwargs['endpoint_filter'] = self.endpoint_filter
        if body is not None:
            kwargs['json'] = body
        if params:
            kwargs['params'] = params
        try:
            resp = self.session.request(path, method, **kwargs)
        except Exception as exc:
            raise ApiError(None, self._explain(exc))
        if resp.status_code >= 400:
            raise ApiError(resp.status_code, _error_detail(resp))
        if resp.status_code == 204 or not resp.content:
            return None
        return resp.json()

    def _explain(self, exc):
        """What went wrong before the API could answer, in one line."""
        if isinstance(exc, ks_exc.Unauthorized):
            return ('keystone at %s refused the credentials (wrong user, '
                    'password, project or application credential?): %s'
                    % (self.auth_url, exc))
        if isinstance(exc, ks_exc.EndpointNotFound):
            return ('no %s endpoint (interface %s%s) in the keystone '
                    'catalog: register one, or give --os-endpoint / '
                    'MIGRATOR_ENDPOINT' % (
                        SERVICE_TYPE, self.endpoint_filter['interface'],
                        ', region %s' % self.endpoint_filter['region_name']
                        if 'region_name' in self.endpoint_filter else ''))
        if isinstance(exc, ks_exc.ConnectFailure):
            return 'cannot reach %s: %s' % (
                self.endpoint or 'the migrator API or keystone', exc)
        if isinstance(exc, ks_exc.ClientException):
            return str(exc)
        raise exc

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
