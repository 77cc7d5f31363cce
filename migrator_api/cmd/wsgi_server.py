"""The built-in HTTP server of migrator-all (migrator-api runs under
uWSGI).

One thread per client connection, at most ``[api] max_connections`` of
them (more are answered 503 at once); each read from a client waits at
most ``[api] client_socket_timeout`` seconds.  A connection's thread
reads the request line, the headers and (in guard.RequestGuard) the
body; only then does the request take one of ``[api] workers`` slots
to run the application.  Clients that send slowly, or stall, hold a
thread of their own for a bounded time and never the slots the others
are served by.
"""

import socketserver
import threading
from wsgiref import simple_server

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

_BUSY = (b'HTTP/1.1 503 Service Unavailable\r\n'
         b'Content-Type: application/json\r\nConnection: close\r\n'
         b'Retry-After: 1\r\nContent-Length: %d\r\n\r\n%s')
_BUSY_BODY = (b'{"errors": [{"status": 503, "code": '
              b'"migrator.service_unavailable", "title": "Service '
              b'unavailable", "detail": "Too many client connections; '
              b'try again.", "request_id": null}]}')


class _Handler(simple_server.WSGIRequestHandler):

    def setup(self):
        self.timeout = self.server.client_timeout
        super().setup()

    def log_message(self, fmt, *args):
        LOG.info('%s %s', self.client_address[0], fmt % args)

    def handle(self):
        try:
            super().handle()
        except OSError as exc:          # the client went away or stalled
            LOG.info('%s: connection dropped (%s)', self.client_address[0],
                     exc)


class _Server(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def process_request(self, request, client_address):
        if not self.connections.acquire(blocking=False):
            try:
                request.sendall(_BUSY % (len(_BUSY_BODY), _BUSY_BODY))
            except OSError:
                pass
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.connections.release()


def make_server(host, port, app, max_connections, client_timeout):
    """A server for ``app`` (built with ``slots`` by api.app.setup_app),
    not yet serving: call ``serve_forever()``."""
    server = simple_server.make_server(host, port, app, server_class=_Server,
                                       handler_class=_Handler)
    server.connections = threading.BoundedSemaphore(max_connections)
    server.client_timeout = client_timeout
    return server
