"""What a request must be before anything reads or parses it.

``RequestGuard`` is the outer layer of the API application (inside the
request-id middleware), so the checks hold under any WSGI server:

* path and query string are UTF-8 without NUL characters (400);
* a body is declared by Content-Length: a chunked body without one is
  411, one over ``[api] max_request_body_size`` is 413 before a byte is
  read, a body that is not ``application/json`` is 415;
* the body is read here, within ``[api] request_body_timeout`` seconds
  (408 for a client that stalls), and must be UTF-8 JSON nested at most
  ``MAX_DEPTH`` levels (400), so that nothing later (pecan's parameter
  parsing, webob's form parsing) ever sees a form, a stream or a
  document that breaks a parser;
* with ``slots`` (the built-in server), at most that many requests run
  the application at once, and a request takes its slot only once its
  body is in: slow clients cannot starve the others.
"""

import io
import json
import socket
import time
from urllib import parse

import webob.exc

from migrator_api.api import errors
from migrator_api.common import exception

JSON = 'application/json'
#: Where the parsed body waits for validation.body().
JSON_BODY = 'migrator.json_body'
#: Request documents of this API nest four levels at most.
MAX_DEPTH = 32
_READ_CHUNK = 64 * 1024


def _content_type(environ):
    """(media type, charset) of the request's Content-Type."""
    value = environ.get('CONTENT_TYPE') or ''
    parts = [p.strip() for p in value.split(';')]
    charset = None
    for param in parts[1:]:
        key, _, val = param.partition('=')
        if key.strip().lower() == 'charset':
            charset = val.strip().strip('"').lower()
    return parts[0].lower(), charset


def _check_text(environ):
    try:
        path = environ.get('PATH_INFO', '').encode('latin-1').decode('utf-8')
    except UnicodeError:
        raise webob.exc.HTTPBadRequest(
            detail='The request path is not valid UTF-8.')
    try:
        query = parse.parse_qsl(environ.get('QUERY_STRING', ''),
                                keep_blank_values=True, encoding='utf-8',
                                errors='strict')
    except UnicodeError:
        raise webob.exc.HTTPBadRequest(
            detail='The query string is not valid UTF-8.')
    if '\x00' in path or any('\x00' in k + v for k, v in query):
        raise webob.exc.HTTPBadRequest(
            detail='The request path or query string holds a NUL '
                   'character.')


def _declared_length(environ, limit):
    raw = (environ.get('CONTENT_LENGTH') or '').strip()
    if not raw:
        if 'chunked' in environ.get('HTTP_TRANSFER_ENCODING', '').lower():
            raise webob.exc.HTTPLengthRequired(
                detail='A request body must come with a Content-Length.')
        return 0
    if not raw.isdigit():
        raise webob.exc.HTTPBadRequest(
            detail='Content-Length %r is not a number of bytes.' % raw[:40])
    length = int(raw)
    if length > limit:
        raise webob.exc.HTTPRequestEntityTooLarge(
            detail='The request body is larger than %d bytes.' % limit)
    return length


def _depth(document):
    """How deeply lists and objects nest in ``document`` (iteratively)."""
    deepest, todo = 0, [(document, 1)]
    while todo:
        value, depth = todo.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            deepest = max(deepest, depth)
            todo.extend((v, depth + 1) for v in value)
    return deepest


def parse_json(body):
    """The document of a JSON body, or InvalidInput (400) saying what is
    wrong with it."""
    try:
        text = body.decode('utf-8')
    except UnicodeDecodeError as exc:
        raise exception.InvalidInput(
            reason='the request body is not valid UTF-8 (byte %d)'
            % exc.start)
    too_deep = exception.InvalidInput(
        reason='the request body nests more than %d levels' % MAX_DEPTH)
    try:
        document = json.loads(text)
    except RecursionError:
        raise too_deep
    except ValueError as exc:
        raise exception.InvalidInput(
            reason='the request body is not valid JSON (%s)' % exc)
    if _depth(document) > MAX_DEPTH:
        raise too_deep
    return document


def read_body(stream, length, timeout):
    """Exactly ``length`` bytes of ``stream`` within ``timeout`` seconds,
    or a 408 (stalled or too slow) or 400 (the body ended early)."""
    deadline = time.monotonic() + timeout
    chunks, left = [], length
    while left:
        if time.monotonic() > deadline:
            raise webob.exc.HTTPRequestTimeout(
                detail='The request body did not arrive within %g seconds.'
                % timeout)
        try:
            chunk = stream.read(min(left, _READ_CHUNK))
        except (socket.timeout, OSError):
            raise webob.exc.HTTPRequestTimeout(
                detail='The client stopped sending the request body.')
        if not chunk:
            raise webob.exc.HTTPBadRequest(
                detail='The request body ended %d bytes before its '
                       'Content-Length.' % left)
        chunks.append(chunk)
        left -= len(chunk)
    return b''.join(chunks)


class RequestGuard:

    def __init__(self, application, max_body, body_timeout, slots=None):
        self.application = application
        self.max_body = max_body
        self.body_timeout = body_timeout
        self.slots = slots

    def _admit(self, environ):
        _check_text(environ)
        length = _declared_length(environ, self.max_body)
        if not length:
            # No body: no Content-Type to parse a body by.
            environ.pop('CONTENT_TYPE', None)
            environ['CONTENT_LENGTH'] = '0'
            environ['wsgi.input'] = io.BytesIO(b'')
            return
        media, charset = _content_type(environ)
        if media != JSON or charset not in (None, 'utf-8', 'utf8'):
            raise webob.exc.HTTPUnsupportedMediaType(
                detail='The request body must be JSON (Content-Type: '
                       'application/json, UTF-8), not %s.'
                       % (environ.get('CONTENT_TYPE') or 'untyped')[:80])
        body = read_body(environ['wsgi.input'], length, self.body_timeout)
        environ[JSON_BODY] = parse_json(body)
        environ['wsgi.input'] = io.BytesIO(body)
        environ['CONTENT_LENGTH'] = str(len(body))
        environ['CONTENT_TYPE'] = JSON

    def __call__(self, environ, start_response):
        try:
            self._admit(environ)
        except (webob.exc.HTTPException, exception.MigratorException) as exc:
            # (The servers close the connection after a request whose
            # body was not read: WSGI leaves Connection to them.)
            return errors.render(exc, environ)(environ, start_response)
        if self.slots is None:
            return self.application(environ, start_response)
        with self.slots:
            # Served while the slot is held: the body is small JSON.
            return list(self.application(environ, start_response))
