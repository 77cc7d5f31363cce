"""Strict routing on top of pecan's object dispatch.

Pecan alone routes to any exposed attribute (``/v1/volumes/index``,
``/v1/volumes/_lookup``).  Here a controller routes only to what it
declares: ``children`` (sub-controllers, or generic actions such as
``cancel``) and, when ``item_param`` is set, one item per path segment
(``_item``).  The same declarations give the table of every route
(``iter_routes``), which the OpenAPI test compares with the spec.
"""

import pecan
import webob.exc


class Controller:
    children = ()
    item_param = None

    def _item(self, ident):
        raise NotImplementedError()

    @pecan.expose()
    def _route(self, args, request):
        args = list(args)
        if args in ([], ['']):
            return self.index, []
        segment, rest = args[0], args[1:]
        if segment in self.children:
            child = getattr(self, segment)
            if isinstance(child, Controller):
                return child._route(rest, request)
            if rest in ([], ['']):
                return child, []
        elif segment and self.item_param:
            return self._item(segment)._route(rest, request)
        raise webob.exc.HTTPNotFound()


def _methods(handler):
    cfg = getattr(handler, '_pecan', {})
    return sorted(cfg.get('allowed_methods', [])) if cfg.get('generic') else []


def iter_routes(controller, prefix=''):
    """Yield (method, path template) for every route under ``controller``.

    Paths use OpenAPI templates: ``/v1/volumes/{volume_id}``.
    """
    for method in _methods(getattr(controller, 'index', None)):
        yield method, prefix or '/'
    for name in controller.children:
        child = getattr(controller, name)
        path = '%s/%s' % (prefix, name)
        if isinstance(child, Controller):
            yield from iter_routes(child, path)
        else:
            for method in _methods(child):
                yield method, path
    if controller.item_param:
        param = '{%s}' % controller.item_param
        yield from iter_routes(controller._item(param),
                               '%s/%s' % (prefix, param))
