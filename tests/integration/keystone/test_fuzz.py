"""The embedded default (migrator-all, a real process) behind
keystonemiddleware validating the run's real keystone tokens, fuzzed
from its OpenAPI document (tests/functional/fuzz/fuzzer.py): as an
admin, as a reader, and with no token or a random one.  Whoever asks, no
5xx, every answer (401 and 403 included) as documented, nothing changed
by a rejected request; and what policy refuses stays refused.

What the API does once a request is authorized is the noauth fuzz's
(tests/functional/fuzz/test_api.py): here the admin and the requests
without a valid token get generated requests only, the reader the
coverage cases of the operations taking ids too, against live volumes
of its project.
"""

import os

import fixtures
from oslo_log import log as logging
from testtools import content

from tests import base
from tests.functional.fuzz import fuzzer
from tests.functional import servers
from tests.integration.keystone import base as ks_base

MiB = 1024 * 1024
MAX_LIMIT = 50
BACKENDS = ['file1', 'file2']
#: Generated requests per operation and mode.
EXAMPLES = 5
#: Seconds each test may send for (2 to 6 are needed here).
BUDGET = 15
PUBLIC = ('GET /', 'GET /v1')
#: What a reader may do (the default policy): read backends and the
#: volumes of its project.
READER = ('GET /v1/backends', 'GET /v1/backends/{backend}',
          'GET /v1/volumes', 'GET /v1/volumes/{volume_id}')


class TestFuzzKeystone(base.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.FakeLogger('urllib3', level=logging.INFO))
        keystone = ks_base.server()
        self.server = self.useFixture(servers.EmbeddedServer(
            self.state_path, auth_strategy='keystone', max_limit=MAX_LIMIT,
            sections={'keystone_authtoken':
                      ks_base.authtoken_options(keystone.url)},
            ready_headers=self.headers('admin')))
        fuzzer.wait_for_backends(self.server.url, BACKENDS,
                                 self.headers('admin'))
        self.db = fuzzer.Database(os.path.join(self.state_path,
                                               'migrator.sqlite'))
        self.addCleanup(self.db.close)
        self.fuzzer = fuzzer.Fuzzer(self.server.url, self.db, BUDGET)
        self.addCleanup(self.fuzzer.close)
        self.spec = fuzzer.configured(fuzzer.load_spec(), MAX_LIMIT)

    def headers(self, persona):
        return {'X-Auth-Token': ks_base.token(persona)[0]}

    def fuzz(self, spec, persona, **kwargs):
        """Fuzz as ``persona`` (None: no token, or a random one)."""
        if persona is not None:
            kwargs.update(headers=self.headers(persona), with_security=False)
        self.fuzzer.run(spec, EXAMPLES, **kwargs)
        self.addDetail('fuzz', content.text_content(self.fuzzer.summary()))
        self.assertEqual('', self.fuzzer.report())
        self.assertGreater(sum(self.fuzzer.sent.values()), 0)

    def accepted(self):
        """The operations that answered 2xx."""
        return sorted({label for label, _mode, status in self.fuzzer.sent
                       if 200 <= status < 300})

    def post(self, persona, path, body):
        resp = self.fuzzer.session.post(self.server.url + path, json=body,
                                        headers=self.headers(persona))
        self.assertEqual(202, resp.status_code, resp.text)
        self.assertEqual([], self.db.settle(30))
        return resp.json()

    def test_admin(self):
        self.fuzz(self.spec, 'admin', coverage=False)

    def test_no_token_or_a_random_one(self):
        self.fuzz(self.spec, None, coverage=False)
        self.assertEqual(list(PUBLIC), self.accepted())

    def test_reader_on_live_resources(self):
        # Volumes of the reader's project, one of them migrated.
        for _ in range(2):
            vol = self.post('member', '/v1/volumes', {'volume': {
                'size': MiB, 'backend': 'file1'}})['volume']
        self.post('admin', '/v1/migrations', {'migration': {
            'volume_id': vol['id'], 'backend': 'file2'}})
        live = self.db.live()
        before = self.db.state()
        # Bad input first, then good input: a reader changes nothing,
        # and reads no more than volumes and backends.
        self.fuzz(fuzzer.narrowed(self.spec, live), 'reader',
                  modes=(fuzzer.NEGATIVE, fuzzer.POSITIVE),
                  coverage=fuzzer.takes_ids)
        self.assertEqual(before, self.db.state())
        self.assertEqual([], sorted(set(self.accepted()) -
                                    set(PUBLIC + READER)))
