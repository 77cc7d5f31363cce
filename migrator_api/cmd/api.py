"""migrator-api: the REST API and, by default, the conductor."""

import sys

from oslo_log import log as logging

from migrator_api.cmd import runner
from migrator_api.common import config
from migrator_api.common import service

LOG = logging.getLogger(__name__)


def main(argv=None):
    stop = service.StopSignal()
    conf = config.parse_args(sys.argv[1:] if argv is None else argv)
    services = runner.Runner(conf, stop)
    services.start_api_side()
    return services.run_until_signalled()
