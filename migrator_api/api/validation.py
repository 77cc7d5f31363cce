"""jsonschema validation of request bodies and query strings.

Every failure is a 400 whose detail names the offending field or
parameter (415 for a body that is not JSON).  The size and arrival of
the body were checked before (guard.RequestGuard).  Strings must be
text every database stores: no lone UTF-16 surrogates, no NUL.
"""

import jsonschema
from jsonschema import validators
import webob.exc

from migrator_api.api import guard
from migrator_api.common import exception

# JSON integers only: 1024.0 and true are not sizes.
_TYPE_CHECKER = validators.Draft202012Validator.TYPE_CHECKER.redefine(
    'integer',
    lambda checker, value: isinstance(value, int)
    and not isinstance(value, bool))
_Validator = validators.extend(validators.Draft202012Validator,
                               type_checker=_TYPE_CHECKER)
_FORMATS = jsonschema.FormatChecker(['uuid'])

TRUE_VALUES = ('true', 'True', '1')


def _path(error):
    return '.'.join(str(p) for p in error.absolute_path)


def _validate(schema, document):
    validator = _Validator(schema, format_checker=_FORMATS)
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    return error


def _bad_text(value):
    """Why a string cannot be stored as text, or None."""
    if '\x00' in value:
        return 'holds a NUL character'
    try:
        value.encode('utf-8')
    except UnicodeEncodeError:
        return 'holds a lone UTF-16 surrogate (not valid Unicode)'
    return None


def _check_strings(document, where):
    """Refuse strings (keys included) that are not storable text."""
    if isinstance(document, dict):
        items = document.items()
    elif isinstance(document, list):
        items = enumerate(document)
    else:
        items = ()
    for key, value in items:
        # A key may itself be what is wrong: name it escaped.
        key_text = str(key).encode('utf-8', 'backslashreplace').decode()
        path = '%s.%s' % (where, key_text) if where else key_text
        for text in (key, value):
            if isinstance(text, str) and _bad_text(text):
                raise exception.InvalidInput(
                    reason='field %s: %s' % (path, _bad_text(text)))
        _check_strings(value, path)


def body(request, schema, optional=False):
    """The JSON body of ``request``, validated against ``schema``.

    ``optional``: an empty body stands for ``{}``.
    """
    if optional and not request.body:
        return {}
    content_type = request.content_type
    if content_type and content_type != 'application/json':
        raise webob.exc.HTTPUnsupportedMediaType(
            detail='The request body must be JSON (Content-Type: '
                   'application/json), not %s.' % content_type)
    if guard.JSON_BODY in request.environ:
        document = request.environ[guard.JSON_BODY]
    else:
        document = guard.parse_json(request.body or b'')
    _check_strings(document, '')
    error = _validate(schema, document)
    if error is not None:
        field = _path(error)
        raise exception.InvalidInput(
            reason=('field %s: %s' % (field, error.message)) if field
            else 'request body: %s' % error.message)
    return document


def query(request, schema, max_limit=None):
    """The query parameters of ``request`` as a dict, validated.

    Each parameter may appear once; ``limit`` becomes an int no larger
    than ``max_limit``.
    """
    allowed = sorted(schema.get('properties', {}))
    params = {}
    for name, value in request.GET.items():
        if name not in allowed:
            raise exception.InvalidInput(
                reason='unknown query parameter %r; allowed: %s'
                % (name, ', '.join(allowed) or 'none'))
        if name in params:
            raise exception.InvalidInput(
                reason='query parameter %r given more than once' % name)
        params[name] = value
    error = _validate(schema, params)
    if error is not None:
        raise exception.InvalidInput(
            reason='query parameter %s: %s' % (_path(error) or '?',
                                               error.message))
    if 'limit' in params:
        params['limit'] = _limit(params['limit'], max_limit)
    return params


def _limit(value, max_limit):
    if not (value.isdigit() and value.isascii()) or int(value) < 1:
        raise exception.InvalidInput(
            reason='query parameter limit: %r is not a positive integer'
            % value)
    if max_limit is not None and int(value) > max_limit:
        raise exception.InvalidInput(
            reason='query parameter limit: %s is more than the maximum of '
                   '%d' % (value, max_limit))
    return int(value)


def is_true(params, name):
    return params.get(name) in TRUE_VALUES


# Endpoints that take no query parameters.
NO_QUERY = {'type': 'object', 'properties': {},
            'additionalProperties': False}
