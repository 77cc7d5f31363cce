"""A threaded WSGI server for migrator-api and migrator-all.

Requests are served by a bounded pool of native threads ([api]
workers).  Production deployments may instead run
migrator_api.wsgi.api under uwsgi or gunicorn.
"""

from concurrent import futures
import socketserver
from wsgiref import simple_server

from oslo_log import log as logging

LOG = logging.getLogger(__name__)


class _QuietHandler(simple_server.WSGIRequestHandler):

    def log_message(self, fmt, *args):
        LOG.info('%s %s', self.client_address[0], fmt % args)


class _PooledServer(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True
    pool = None

    def process_request(self, request, client_address):
        self.pool.submit(self.process_request_thread, request,
                         client_address)


def make_server(host, port, app, workers):
    server = simple_server.make_server(host, port, app,
                                       server_class=_PooledServer,
                                       handler_class=_QuietHandler)
    server.pool = futures.ThreadPoolExecutor(max_workers=workers,
                                             thread_name_prefix='wsgi')
    return server
