"""migrator-conductor: the conductor alone.

Drives the migrations (claiming each one it drives: any number of
conductors may run), serves the ``migrator-conductor`` topic the API
and the agents cast to, and heartbeats as ``[DEFAULT] host`` every
``[volume] report_interval`` seconds until SIGTERM.
"""

import sys

from oslo_log import log as logging

from migrator_api.cmd import runner
from migrator_api.common import config
from migrator_api.common import service

LOG = logging.getLogger(__name__)


def main(argv=None):
    stop = service.StopSignal()
    conf = config.parse_args(sys.argv[1:] if argv is None else argv,
                             prog='migrator-conductor')
    services = runner.Runner(conf, stop)
    try:
        services.start_conductor()
    except Exception:
        LOG.exception('migrator-conductor cannot start')
        services.stop()
        return 1
    return services.run_until_signalled()
