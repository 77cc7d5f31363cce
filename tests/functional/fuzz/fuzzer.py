"""schemathesis against a real API server and the shipped OpenAPI
document (migrator_api/api/openapi.yaml).

Requests are generated from the document, positive (they keep to it)
and negative (each breaks it somewhere: a wrong type, a missing or extra
field or parameter, an out-of-range value), sent over HTTP to a running
server, and every answer is judged:

- no 5xx (``not_a_server_error``);
- the status is one the operation documents, the body is JSON and
  matches the documented schema: for an error, the API-SIG shape
  (``status_code_conformance``, ``content_type_conformance``,
  ``response_schema_conformance``), with the response's status and its
  ``X-OpenStack-Request-Id`` (``api_sig_error``);
- a request that breaks the document is rejected
  (``negative_data_rejection``) and one that keeps to it is not refused
  as invalid (``positive_data_acceptance``);
- a rejected request (4xx) changed nothing: every row of the server's
  database is the same before and after it (read from its SQLite file;
  less what the services write by themselves: heartbeats, capacity);
- an accepted one leaves nothing in a transitional status.

Runs are deterministic: hypothesis is derandomized, with no example
database, no shrinking and none of the constants it would read from the
modules the process imported before, a fixed number of examples per
operation and mode.  A run also stops sending when its time budget is
spent (on a loaded machine it then sends fewer requests, and counts
those it did not send).
"""

import collections
import contextlib
import copy
import os
import time
from unittest import mock

import hypothesis
from hypothesis import errors as hypothesis_errors
from hypothesis.internal.conjecture import providers
import requests
import schemathesis
from schemathesis import checks as st_checks
from schemathesis.core import failures as st_failures
from schemathesis.generation import drivers
from schemathesis.generation import feedback
from schemathesis.generation import overrides
from schemathesis.specs.openapi import checks as openapi_checks
import sqlalchemy as sa
import yaml

from migrator_api import api
from migrator_api.common import states
from migrator_api.db import models

SPEC_PATH = os.path.join(os.path.dirname(api.__file__), 'openapi.yaml')
POSITIVE = schemathesis.GenerationMode.POSITIVE
NEGATIVE = schemathesis.GenerationMode.NEGATIVE
#: What the services write by themselves, never for a request: their
#: own records (heartbeats, an agent registering late) and the capacity
#: the volume workers report.
UNWATCHED_TABLES = ('services',)
VOLATILE = {'backends': {'total_capacity_bytes', 'free_capacity_bytes',
                         'updated_at'}}
TRANSITIONAL_VOLUME = (states.CREATING, states.DELETING, states.ATTACHING,
                       states.DETACHING)
TRANSITIONAL_ATTACHMENT = (states.A_ATTACHING, states.A_DETACHING)
#: What the document says in words only: a marker naming no item.
MARKER_UNKNOWN = 'does not exist'


def load_spec():
    with open(SPEC_PATH) as f:
        return yaml.safe_load(f)


def noauth(spec):
    """The document as a server with ``[api] auth_strategy = noauth``
    serves it: no token is needed."""
    spec = copy.deepcopy(spec)
    spec['security'] = []
    return spec


def configured(spec, max_limit):
    """The document with the server's ``[api] max_limit`` filled in (the
    document names the option; its value is the deployment's)."""
    spec = copy.deepcopy(spec)
    limit = spec['components']['parameters']['limit']['schema']
    limit['maximum'] = max_limit
    return spec


def _narrow(schema, values):
    if values:
        schema['enum'] = sorted(values)


def narrowed(spec, live):
    """The document with the ids and names it takes narrowed to those of
    ``live`` resources (``Database.live()``), so that the requests reach
    them instead of answering 404."""
    spec = copy.deepcopy(spec)
    params = spec['components']['parameters']
    for name, kind in (('volume_id', 'volumes'),
                       ('migration_id', 'migrations'),
                       ('attachment_id', 'attachments')):
        _narrow(params[name]['schema'], live[kind])
    _narrow(spec['paths']['/v1/backends/{backend}']['parameters'][0]
            ['schema'], live['backends'])
    schemas = spec['components']['schemas']

    def fields(name, key):
        return schemas[name]['properties'][key]['properties']
    _narrow(fields('VolumeCreateRequest', 'volume')['backend'],
            live['backend_names'])
    migration = fields('MigrationCreateRequest', 'migration')
    _narrow(migration['volume_id'], live['volumes'])
    _narrow(migration['backend'], live['backend_names'])
    _narrow(fields('AttachmentCreateRequest', 'attachment')['volume_id'],
            live['volumes'])
    return spec


def takes_ids(operation):
    """Whether ``operation`` takes an id or a name (in its path or its
    body): what narrowed() narrows."""
    return '{' in operation.path or operation.method.upper() == 'POST'


def api_sig_error(ctx, response, case):
    """An error is one API-SIG error with the response's status and its
    X-OpenStack-Request-Id."""
    if response.status_code < 400:
        return None
    headers = {k.lower(): v for k, v in response.headers.items()}
    request_id = (headers.get('x-openstack-request-id') or [None])[0]
    assert request_id, 'no X-OpenStack-Request-Id'
    try:
        errors = response.json()['errors']
    except (ValueError, TypeError, KeyError):
        raise AssertionError('not an API-SIG error: %r'
                             % response.text[:200])
    assert isinstance(errors, list) and len(errors) == 1, (
        'not one error: %r' % (errors,))
    assert errors[0]['status'] == response.status_code, (
        'error status %r in a %d response'
        % (errors[0]['status'], response.status_code))
    assert errors[0]['request_id'] == request_id, (
        'error request_id %r, X-OpenStack-Request-Id %r'
        % (errors[0]['request_id'], request_id))
    assert 'Traceback' not in response.text, 'a traceback in the body'
    return None


def positive_data_acceptance(ctx, response, case):
    """schemathesis' check, but for the one refusal of a valid request
    the document describes in words only: a marker naming no item."""
    if (response.status_code == 400 and 'marker' in (case.query or {}) and
            MARKER_UNKNOWN in response.text):
        return None
    return openapi_checks.positive_data_acceptance(ctx, response, case)


CHECKS = [st_checks.not_a_server_error,
          openapi_checks.status_code_conformance,
          openapi_checks.content_type_conformance,
          openapi_checks.response_schema_conformance,
          openapi_checks.negative_data_rejection,
          positive_data_acceptance,
          api_sig_error]


class Database:
    """The server's SQLite database, read beside it."""

    def __init__(self, path):
        self.engine = sa.create_engine('sqlite:///%s' % path)

    def close(self):
        self.engine.dispose()

    def _rows(self, conn, table):
        skip = VOLATILE.get(table.name, set())
        return [{k: v for k, v in row.items() if k not in skip}
                for row in conn.execute(table.select()).mappings()]

    def state(self):
        """Every row of every table, less what services update alone."""
        with self.engine.connect() as conn:
            return {table.name: sorted(
                (sorted((k, repr(v)) for k, v in row.items())
                 for row in self._rows(conn, table)))
                for table in models.Base.metadata.sorted_tables
                if table.name not in UNWATCHED_TABLES}

    def live(self):
        """The ids (and backend names) the API serves now."""
        with self.engine.connect() as conn:
            tables = models.Base.metadata.tables
            rows = {name: self._rows(conn, tables[name])
                    for name in ('volumes', 'migrations', 'attachments',
                                 'backends')}
        return {
            'volumes': [v['id'] for v in rows['volumes'] if not v['hidden']],
            'migrations': [m['id'] for m in rows['migrations']],
            'attachments': [a['id'] for a in rows['attachments']],
            'backends': ([b['id'] for b in rows['backends']] +
                         [b['name'] for b in rows['backends']]),
            'backend_names': [b['name'] for b in rows['backends']],
        }

    def unsettled(self):
        """The records in a transitional status, described."""
        with self.engine.connect() as conn:
            tables = models.Base.metadata.tables
            out = ['volume %(id)s %(status)s' % v
                   for v in self._rows(conn, tables['volumes'])
                   if v['status'] in TRANSITIONAL_VOLUME]
            # Ended, a migration is still held until its conductor
            # releases its claim.
            out += ['migration %(id)s %(status)s/%(phase)s' % m
                    for m in self._rows(conn, tables['migrations'])
                    if m['status'] in states.MIGRATION_RUNNING or
                    m['phase'] != states.P_DONE or
                    m['conductor_host'] is not None]
            out += ['attachment %(id)s %(status)s' % a
                    for a in self._rows(conn, tables['attachments'])
                    if a['status'] in TRANSITIONAL_ATTACHMENT]
        return out

    def settle(self, timeout):
        """Wait until nothing is in a transitional status; what still is
        after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            stuck = self.unsettled()
            if not stuck or time.monotonic() > deadline:
                return stuck
            time.sleep(0.05)


def wait_for_backends(url, names, headers=None, timeout=60):
    """Wait until the backends ``names`` are listed and up (their volume
    worker reported: the rows are there before fuzzing starts)."""
    deadline = time.monotonic() + timeout
    while True:
        resp = requests.get(url + '/v1/backends', headers=headers,
                            timeout=10)
        up = sorted(b['name'] for b in resp.json().get('backends', [])
                    if b['state'] == 'up')
        if up == sorted(names):
            return
        if time.monotonic() > deadline:
            raise AssertionError('backends up: %s, not %s' % (up, names))
        time.sleep(0.1)


@contextlib.contextmanager
def no_local_constants():
    """Hypothesis without the constants it reads from the project's
    modules already imported: which those are depends on the tests that
    ran before in the process, and so would the requests generated."""
    if not hasattr(providers, '_get_local_constants'):
        yield
        return
    providers.CONSTANTS_CACHE.cache.clear()
    with mock.patch.object(providers, '_get_local_constants',
                           lambda: providers.Constants()):
        yield
    providers.CONSTANTS_CACHE.cache.clear()


def _diff(before, after):
    out = []
    for table in sorted(set(before) | set(after)):
        old = [dict(r) for r in before.get(table, [])]
        new = [dict(r) for r in after.get(table, [])]
        out += ['%s -%r' % (table, r) for r in old if r not in new]
        out += ['%s +%r' % (table, r) for r in new if r not in old]
    return '\n'.join(out)


class Fuzzer:
    """Fuzz the server at ``url`` whose database is ``database``.

    ``budget``: seconds after which nothing more is sent.
    ``settle_timeout``: how long an accepted request may leave records in
    a transitional status.
    """

    def __init__(self, url, database, budget, settle_timeout=30):
        self.url = url
        self.db = database
        self.deadline = time.monotonic() + budget
        self.settle_timeout = settle_timeout
        self.session = requests.Session()
        #: (operation, kind) -> [count, first example]
        self.failures = {}
        #: (operation, mode, status) -> requests sent
        self.sent = collections.Counter()
        self.not_sent = 0

    def close(self):
        self.session.close()

    def schema(self, spec, mode, with_security=True):
        """The schemathesis schema of ``spec`` for ``mode``.

        Positive data holds no NUL: the document says in words that
        strings must not (and the negative data does).
        """
        config = schemathesis.Config.from_dict({
            'base-url': self.url,
            'generation': {
                'allow-x00': mode is NEGATIVE,
                'with-security-parameters': with_security,
            },
        })
        return schemathesis.openapi.from_dict(spec, config=config)

    def run(self, spec, examples, modes=(POSITIVE, NEGATIVE), headers=None,
            with_security=True, coverage=True):
        """Fuzz every operation of ``spec``, DELETEs last, for each mode
        in turn: schemathesis' coverage cases (boundary values, wrong
        types, missing and extra fields and parameters, other media
        types and methods), then ``examples`` generated requests.

        ``coverage``: whether to send the coverage cases, or which
        operations to send them to (a function of the operation).

        ``headers``: sent with every request (a token);
        ``with_security``: generate the security parameters (a random
        token, or none in negative data) where the document asks for
        them.
        """
        for mode in modes:
            schema = self.schema(spec, mode, with_security)
            operations = [result.ok() for result in
                          schema.get_all_operations()]
            operations.sort(key=lambda op: op.method.upper() == 'DELETE')
            for op in operations:
                if coverage(op) if callable(coverage) else coverage:
                    self.cover(op, mode, headers)
                self.fuzz(op, mode, examples, headers)

    def cover(self, operation, mode, headers):
        """Send the coverage cases of ``operation`` (deterministic)."""
        generation = operation.schema.config.generation_for(
            operation=operation, phase='coverage')
        for case in drivers.CoverageGenerator(
                operation=operation, generation_modes=[mode],
                generation_config=generation, auth_storage=None,
                override=overrides.Override(),
                feedback=feedback.FeedbackSources()):
            self.send(case, mode, headers)

    def fuzz(self, operation, mode, examples, headers):
        """Send ``examples`` requests hypothesis generates."""
        settings = hypothesis.settings(
            max_examples=examples, deadline=None, derandomize=True,
            database=None, verbosity=hypothesis.Verbosity.quiet,
            phases=(hypothesis.Phase.explicit, hypothesis.Phase.generate),
            suppress_health_check=list(hypothesis.HealthCheck))

        @settings
        @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
        def fuzz(case):
            self.send(case, mode, headers)

        try:
            with no_local_constants():
                fuzz()
        except hypothesis_errors.Unsatisfiable:
            # Nothing to break in an operation without parameters.
            if mode is not NEGATIVE:
                raise

    def send(self, case, mode, headers):
        """Send ``case`` and judge the answer (see the module's doc)."""
        if time.monotonic() > self.deadline:
            self.not_sent += 1
            return
        label = case.operation.label
        before = self.db.state()
        resp = case.call(base_url=self.url, session=self.session,
                         headers=headers, timeout=30)
        self.sent[(label, mode.value, resp.status_code)] += 1
        try:
            case.validate_response(resp, checks=CHECKS, headers=headers)
        except st_failures.FailureGroup as group:
            for failure in group.exceptions:
                self.fail(label, failure.title or failure.code, case,
                          resp, headers, failure.message)
        if 400 <= resp.status_code < 500:
            after = self.db.state()
            if after != before:
                self.fail(label, 'a rejected request changed the database',
                          case, resp, headers, _diff(before, after))
        elif resp.status_code < 300 and case.method.upper() != 'GET':
            stuck = self.db.settle(self.settle_timeout)
            if stuck:
                self.fail(label, 'records stuck after an accepted request',
                          case, resp, headers, '\n'.join(stuck))

    def fail(self, label, kind, case, resp, headers, detail):
        key = (label, kind)
        if key in self.failures:
            self.failures[key][0] += 1
            return
        request = resp.request
        body = request.body or b''
        if isinstance(body, str):
            body = body.encode()
        example = '%s %s %s\n  -> %d %s\n  %s\n  reproduce: %s' % (
            request.method, request.url, body[:500], resp.status_code,
            resp.text[:500], (detail or '').strip().replace('\n', '\n  '),
            case.as_curl_command(headers=headers))
        self.failures[key] = [1, example]

    def report(self):
        """The failures, one paragraph each; '' when there is none."""
        return '\n\n'.join(
            '%s: %s (%d requests); first:\n  %s' % (label, kind, count,
                                                    example)
            for (label, kind), (count, example) in
            sorted(self.failures.items()))

    def summary(self):
        """The requests sent, by operation, mode and status."""
        lines = ['%-45s %-8s %d: %d' % (key + (n,))
                 for key, n in sorted(self.sent.items())]
        lines.append('sent %d, not sent (time budget spent) %d'
                     % (sum(self.sent.values()), self.not_sent))
        return '\n'.join(lines)
