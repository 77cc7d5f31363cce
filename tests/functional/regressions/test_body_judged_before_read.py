"""Regression: request bodies were read before they were judged.

The 64 KiB limit was checked after the whole body had been read and
parsed: a huge Content-Length kept a worker waiting forever, a 32 MiB
body grew the server by about 64 MiB, and some 20 clients sending
headers and a partial body made GET /v1/backends time out for everyone.
Now the limit is enforced from Content-Length before reading (413 at
once), a stalled body is answered 408, and other clients are served
while slow ones are connected -- by the built-in server of the embedded
default and by uWSGI as deployed.
"""

import json
import socket
import time
import urllib.request

from tests import base
from tests.functional import servers

MiB = 1024 * 1024


def _send_headers(port, length, first=b'', path='/v1/volumes'):
    sock = socket.create_connection(('127.0.0.1', port), timeout=30)
    sock.sendall(b'POST %s HTTP/1.1\r\nHost: test\r\n'
                 b'Content-Type: application/json\r\n'
                 b'Content-Length: %d\r\n\r\n%s' % (path.encode(), length,
                                                    first))
    return sock


def _response(sock, timeout=30):
    """(status, parsed JSON body) of the response on ``sock``."""
    sock.settimeout(timeout)
    data = b''
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
        head, _, body = data.partition(b'\r\n\r\n')
        length = [int(h.split(b':')[1]) for h in head.split(b'\r\n')
                  if h.lower().startswith(b'content-length:')]
        if length and len(body) >= length[0]:
            break
    head, _, body = data.partition(b'\r\n\r\n')
    status = int(head.split(b' ')[1]) if head else None
    return status, json.loads(body) if body else None


class _Checks:
    """The same promises, whatever server runs the API."""

    def _get_backends(self):
        started = time.monotonic()
        with urllib.request.urlopen(self.server.url + '/v1/backends',
                                    timeout=10) as resp:
            self.assertEqual(200, resp.status)
            json.load(resp)
        return time.monotonic() - started

    def test_huge_content_length_answered_413_at_once(self):
        started = time.monotonic()
        sock = _send_headers(self.server.port, 10 ** 12)
        status, body = _response(sock)
        sock.close()
        self.assertEqual(413, status)
        self.assertEqual('migrator.request_too_large',
                         body['errors'][0]['code'])
        self.assertLess(time.monotonic() - started, 5)
        self._get_backends()

    def test_32_mib_body_is_not_read_into_memory(self):
        before = servers.rss_kib(self.server.pids)
        # A first part the socket buffers take at once: the server may
        # answer (and close) before it would have read any of it.
        sock = _send_headers(self.server.port, 32 * MiB, b'{"x": "' +
                             b'a' * (64 * 1024))
        status, _body = _response(sock)
        sock.close()
        self.assertEqual(413, status)
        grown = servers.rss_kib(self.server.pids) - before
        self.assertLess(grown, 16 * 1024, 'the server grew by %d KiB' % grown)

    def test_stalled_body_answered_408(self):
        started = time.monotonic()
        sock = _send_headers(self.server.port, 100, b'{"volume": ')
        status, _body = _response(sock, timeout=30)
        took = time.monotonic() - started
        sock.close()
        self.assertEqual(408, status)
        self.assertLess(took, 15)
        self._get_backends()

    def test_slow_clients_do_not_starve_the_others(self):
        slow = [_send_headers(self.server.port, 1000, b'{"volume": {')
                for _ in range(20)]
        self.addCleanup(lambda: [s.close() for s in slow])
        time.sleep(0.3)
        took = [self._get_backends() for _ in range(5)]
        self.assertLess(max(took), 2, took)


class TestEmbeddedServer(_Checks, base.TestCase):

    def setUp(self):
        super().setUp()
        self.server = self.useFixture(servers.EmbeddedServer(
            self.state_path))

    def test_more_slow_clients_than_threads_of_the_pool(self):
        # [api] workers (16) once bounded the connections themselves.
        slow = [_send_headers(self.server.port, 1000, b'{')
                for _ in range(60)]
        self.addCleanup(lambda: [s.close() for s in slow])
        time.sleep(0.3)
        self.assertLess(self._get_backends(), 2)


class TestEmbeddedServerConnectionLimit(base.TestCase):

    def test_over_the_limit_answered_503_not_hung(self):
        server = self.useFixture(servers.EmbeddedServer(
            self.state_path, max_connections=5))
        slow = [_send_headers(server.port, 1000, b'{') for _ in range(5)]
        self.addCleanup(lambda: [s.close() for s in slow])
        time.sleep(0.3)
        sock = socket.create_connection(('127.0.0.1', server.port),
                                        timeout=10)
        sock.sendall(b'GET /v1/backends HTTP/1.1\r\nHost: t\r\n\r\n')
        status, body = _response(sock, timeout=10)
        sock.close()
        self.assertEqual(503, status)
        self.assertEqual('migrator.service_unavailable',
                         body['errors'][0]['code'])


class TestUwsgi(_Checks, base.TestCase):

    def setUp(self):
        super().setUp()
        self.server = self.useFixture(servers.UwsgiServer(self.state_path))
