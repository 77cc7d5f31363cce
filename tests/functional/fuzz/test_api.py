"""The embedded default (migrator-all, a real process on a real port,
``[api] auth_strategy = noauth``) fuzzed from its OpenAPI document: no
5xx, no answer that breaks the document, nothing changed by a rejected
request (see fuzzer.py).

The first test sends what the document describes, to ids that name
nothing; the second narrows the ids and names to live volumes, a
finished migration and the backends, so that the requests reach them:
bad input first (it must change nothing), then good input (which may
create, migrate and delete).
"""

import json
import os
import urllib.request

import fixtures
from oslo_log import log as logging
from testtools import content

from tests import base
from tests.functional.fuzz import fuzzer
from tests.functional import servers

MiB = 1024 * 1024
#: The backends of the embedded default.
BACKENDS = ['file1', 'file2']
#: [api] max_limit of the server, filled into the document.
MAX_LIMIT = 50
#: Generated requests per operation and mode (after the coverage cases);
#: fewer to live resources, where most good ones create and migrate.
EXAMPLES = 10
LIVE_EXAMPLES = 5
#: Seconds each test may send for (7 to 10 are needed here).
BUDGET = 20


class FuzzTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        # Not every request sent in the log.
        self.useFixture(fixtures.FakeLogger('urllib3', level=logging.INFO))
        self.server = self.useFixture(servers.EmbeddedServer(
            self.state_path, max_limit=MAX_LIMIT))
        fuzzer.wait_for_backends(self.server.url, BACKENDS)
        self.db = fuzzer.Database(os.path.join(self.state_path,
                                               'migrator.sqlite'))
        self.addCleanup(self.db.close)
        self.fuzzer = fuzzer.Fuzzer(self.server.url, self.db, BUDGET)
        self.addCleanup(self.fuzzer.close)
        self.spec = fuzzer.noauth(fuzzer.configured(fuzzer.load_spec(),
                                                    MAX_LIMIT))

    def call(self, method, path, body=None):
        req = urllib.request.Request(
            self.server.url + path, method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={'Content-Type': 'application/json'})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b'null')

    def settle(self):
        self.assertEqual([], self.db.settle(30))

    def assertNoFailures(self):
        self.addDetail('fuzz', content.text_content(self.fuzzer.summary()))
        self.assertEqual('', self.fuzzer.report())
        self.assertGreater(sum(self.fuzzer.sent.values()), 0)


class TestFuzzEmbedded(FuzzTestCase):

    def test_documented_requests(self):
        self.fuzzer.run(self.spec, EXAMPLES)
        self.assertNoFailures()

    def test_requests_to_live_resources(self):
        vols = [self.call('POST', '/v1/volumes', {'volume': {
            'size': MiB, 'backend': backend, 'name': 'seed'}})['volume']
            for backend in ('file1', 'file1', 'file2')]
        self.settle()
        self.call('POST', '/v1/migrations', {'migration': {
            'volume_id': vols[0]['id'], 'backend': 'file2'}})
        self.settle()
        live = self.db.live()
        self.assertEqual(3, len(live['volumes']))
        self.assertEqual(1, len(live['migrations']))
        # The coverage cases of the lists are those of the first test.
        self.fuzzer.run(fuzzer.narrowed(self.spec, live), LIVE_EXAMPLES,
                        modes=(fuzzer.NEGATIVE, fuzzer.POSITIVE),
                        coverage=fuzzer.takes_ids)
        self.assertNoFailures()
