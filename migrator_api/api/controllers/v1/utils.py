"""Helpers the v1 handlers share."""

from urllib import parse

import pecan
from pecan import util as pecan_util
import webob
import webob.exc


def context():
    """The RequestContext of the current request (see hooks.ContextHook)."""
    return pecan.request.context


def conf():
    return pecan.request.environ['migrator.conf']


def method_not_allowed(generic_handler):
    """Raise a 405 naming the methods ``generic_handler`` accepts."""
    allowed = sorted(pecan_util._cfg(generic_handler)['allowed_methods'])
    raise webob.exc.HTTPMethodNotAllowed(headers={'Allow': ', '.join(allowed)})


def accepted():
    """202 Accepted without a body."""
    resp = webob.Response(status=202)
    del resp.headers['Content-Type']
    return resp


def isotime(value):
    """ISO 8601 UTC with a Z, or None."""
    if value is None:
        return None
    return value.strftime('%Y-%m-%dT%H:%M:%SZ')


def url(*parts):
    base = pecan.request.application_url.rstrip('/')
    return '/'.join([base] + [str(p).strip('/') for p in parts])


def self_link(*parts):
    return {'rel': 'self', 'href': url(*parts)}


def collection_links(path, items, limit, params):
    """API-SIG paging: a ``next`` link when the page is full."""
    if not items or limit is None or len(items) < limit:
        return []
    query = dict(params, limit=limit, marker=items[-1].id)
    return [{'rel': 'next', 'href': '%s?%s' % (
        url(path), parse.urlencode(sorted(query.items())))}]
