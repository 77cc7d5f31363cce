"""Base test case: isolated configuration, a private state directory,
logs captured, and a timeout so that nothing hangs."""

import os
import signal

import fixtures
from oslo_config import fixture as config_fixture
from oslo_log import log as logging
import testtools

from migrator_api import conf as mconf
from migrator_api.conf import opts as conf_opts

CONF = mconf.CONF
_LOGGING_SET_UP = False


def _setup_logging():
    global _LOGGING_SET_UP
    if not _LOGGING_SET_UP:
        logging.register_options(CONF)
        _LOGGING_SET_UP = True


class TestCase(testtools.TestCase):
    """Every test gets its own state_path and a clean configuration."""

    TIMEOUT = int(os.environ.get('MIGRATOR_TEST_TIMEOUT', 300))

    def setUp(self):
        super().setUp()
        _setup_logging()
        self.useFixture(fixtures.Timeout(self.TIMEOUT, gentle=True))
        self.useFixture(fixtures.NestedTempfile())
        self.useFixture(fixtures.FakeLogger(level=logging.DEBUG,
                                            format='%(asctime)s %(levelname)s '
                                                   '%(name)s %(message)s'))
        self.conf_fixture = self.useFixture(config_fixture.Config(CONF))
        self.conf = CONF
        CONF([], project='migrator', default_config_files=[])
        conf_opts.set_defaults(CONF)
        self.state_path = self.useFixture(fixtures.TempDir()).path
        self.flags(state_path=self.state_path)

    def flags(self, group=None, **kw):
        """Override options for this test only."""
        self.conf_fixture.config(group=group, **kw)


def kill_a_running_dd(copier, min_done=0):
    """Kill -9 one running ``dd`` of a copier (started by this test's
    process) once it copied ``min_done`` bytes; whether one was killed.
    A pidfd names that very process, never a reused pid."""
    if copier is None or copier.bytes_done < min_done:
        return False
    with copier._lock:
        running = list(copier._running)
    for proc in running:
        try:
            fd = os.pidfd_open(proc.pid)
        except OSError:
            continue
        try:
            signal.pidfd_send_signal(fd, signal.SIGKILL)
            return True
        except OSError:
            continue
        finally:
            os.close(fd)
    return False
