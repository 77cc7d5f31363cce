"""Every error as JSON in the API-SIG shape.

    {"errors": [{"status": 404, "code": "migrator.volume_not_found",
                 "title": "Not found", "detail": "Volume ... not found.",
                 "request_id": "req-..."}]}

``ErrorHook`` renders what a handler or pecan's routing raises;
``FaultWrapper`` catches anything that escapes pecan.  Unexpected
exceptions become a 500 whose detail names the request id to look up in
the server log, never a traceback.
"""

from oslo_log import log as logging
from oslo_middleware import request_id as request_id_mw
from oslo_serialization import jsonutils
import pecan
import webob
import webob.exc

from migrator_api.common import exception

LOG = logging.getLogger(__name__)

# API-SIG codes of the errors raised by the HTTP layer itself.
HTTP_CODES = {
    400: 'migrator.invalid',
    401: 'migrator.unauthorized',
    403: 'migrator.forbidden',
    404: 'migrator.not_found',
    405: 'migrator.method_not_allowed',
    406: 'migrator.not_acceptable',
    408: 'migrator.request_timeout',
    409: 'migrator.conflict',
    411: 'migrator.length_required',
    413: 'migrator.request_too_large',
    415: 'migrator.unsupported_media_type',
}
INTERNAL_DETAIL = ('An unexpected error occurred; the server log has the '
                   'details of request %s.')


def _request_id(environ):
    return environ.get(request_id_mw.ENV_REQUEST_ID)


def error_response(environ, status, code, title, detail, headers=None):
    body = {'errors': [{'status': status, 'code': code, 'title': title,
                        'detail': detail,
                        'request_id': _request_id(environ)}]}
    resp = webob.Response(status=status, content_type='application/json',
                          charset='UTF-8')
    resp.text = jsonutils.dumps(body)
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp


def _http_detail(exc, environ):
    if exc.status_int == 404 and not exc.detail:
        return 'No resource at %s.' % environ.get('PATH_INFO', '/')
    if exc.status_int == 406:
        return ('This API answers only application/json; the request '
                'accepts %s.' % (environ.get('HTTP_ACCEPT') or '-')[:80])
    if exc.status_int == 405:
        allowed = exc.headers.get('Allow') or ''
        return 'Method %s is not allowed on %s%s.' % (
            environ.get('REQUEST_METHOD'), environ.get('PATH_INFO', '/'),
            ('; allowed: %s' % allowed) if allowed else '')
    return exc.detail or exc.explanation


def render(exc, environ):
    """The response for ``exc`` raised while serving ``environ``."""
    if isinstance(exc, exception.MigratorException) and exc.code < 500:
        LOG.info('%s %s: %s', environ.get('REQUEST_METHOD'),
                 environ.get('PATH_INFO'), exc.message)
        return error_response(environ, exc.code, exc.error_code, exc.title,
                              exc.message)
    if isinstance(exc, exception.MigratorException):
        LOG.error('%s %s failed: %s', environ.get('REQUEST_METHOD'),
                  environ.get('PATH_INFO'), exc.message)
        return error_response(environ, exc.code, exc.error_code, exc.title,
                              exc.message)
    if isinstance(exc, webob.exc.HTTPException) and exc.status_int >= 400:
        status = exc.status_int
        headers = {k: v for k, v in exc.headers.items()
                   if k.lower() in ('allow', 'www-authenticate',
                                    'retry-after')}
        return error_response(
            environ, status, HTTP_CODES.get(status, 'migrator.http_%d' %
                                            status),
            exc.title, _http_detail(exc, environ), headers)
    LOG.exception('Unexpected error serving %s %s',
                  environ.get('REQUEST_METHOD'), environ.get('PATH_INFO'))
    return error_response(environ, 500, exception.MigratorException.error_code,
                          exception.MigratorException.title,
                          INTERNAL_DETAIL % _request_id(environ))


class ErrorHook(pecan.hooks.PecanHook):
    """Render what routing, hooks and handlers raise."""

    priority = 1000

    def on_error(self, state, exc):
        return render(exc, state.request.environ)


class FaultWrapper:
    """The last line: anything escaping the pecan app becomes a 500."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        try:
            return self.application(environ, start_response)
        except Exception as exc:
            return render(exc, environ)(environ, start_response)
