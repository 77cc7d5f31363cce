"""Running an RPC service on native threads.

A ``Service`` serves one manager on one topic and, for agents, sends a
heartbeat (``manager.report_state()``) every ``report_interval``
seconds from a thread of its own.
"""

import signal
import threading

from oslo_log import log as logging

from migrator_api.common import rpc
from migrator_api.common import threads

LOG = logging.getLogger(__name__)


class Service:

    def __init__(self, topic, host, manager, report_interval=None,
                 report=None):
        self.topic = topic
        self.host = host
        self.manager = manager
        self.report_interval = report_interval
        self._report = report or getattr(manager, 'report_state', None)
        self._server = None
        self._stop = threading.Event()
        self._reporter = None

    def start(self):
        init_host = getattr(self.manager, 'init_host', None)
        if init_host is not None:
            init_host()
        self._server = rpc.get_server(self.topic, self.host, [self.manager])
        self._server.start()
        LOG.info('%s serving on topic %s as %s', type(self.manager).__name__,
                 self.topic, self.host)
        if self.report_interval and self._report is not None:
            self._reporter = threads.spawn(
                '%s-heartbeat' % self.topic, self._report_loop)

    def _report_loop(self):
        while True:
            try:
                self._report()
            except Exception:
                LOG.exception('Heartbeat of %s failed', self.topic)
            if self._stop.wait(self.report_interval):
                return

    def stop(self):
        self._stop.set()
        if self._server is not None:
            self._server.stop()
            self._server.wait()
            self._server = None
        cleanup = getattr(self.manager, 'cleanup_host', None)
        if cleanup is not None:
            cleanup()
        if self._reporter is not None:
            self._reporter.join(timeout=5)


class StopSignal:
    """SIGTERM and SIGINT, noted from the moment this is made.

    Made first thing in a command's main thread, so that a signal that
    arrives while the services are still starting is not lost (nor
    kills the process with the default action): ``wait()`` returns at
    once and the command stops cleanly.
    """

    def __init__(self):
        self.event = threading.Event()
        signal.signal(signal.SIGTERM, self._handler)
        signal.signal(signal.SIGINT, self._handler)

    def _handler(self, signum, frame):
        self.event.set()

    def wait(self):
        # Wake up every second: signal handlers run between waits.
        while not self.event.wait(1):
            pass


def run_agent(prog, topic, make_manager, argv):
    """The main() of an agent: parse the configuration, serve the
    manager on ``topic`` as ``[DEFAULT] host`` with heartbeats every
    ``[volume] report_interval`` seconds until SIGTERM."""
    from migrator_api.common import config
    stop = StopSignal()
    conf = config.parse_args(argv, prog=prog)
    rpc.init(conf)
    server = Service(topic, conf.host, make_manager(conf.host, conf),
                     report_interval=conf.volume.report_interval)
    try:
        server.start()
    except Exception:
        LOG.exception('%s cannot start', prog)
        return 1
    stop.wait()
    server.stop()
    rpc.cleanup()
    return 0
