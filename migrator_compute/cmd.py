"""``migrator-compute``: the compute agent of one hypervisor host.

Serves the compute contract with the ``[compute] driver`` on the
``migrator-compute`` topic as server ``[DEFAULT] host``.  At start it
finishes or rolls back whatever its journal shows was under way and
reports the ends it owes to the conductor.
"""

import sys

from oslo_log import log as logging

from migrator_api import conf as mconf
from migrator_api.common import rpc
from migrator_api.common import service
from migrator_api.conf import opts as conf_opts
from migrator_compute import manager

CONF = mconf.CONF
LOG = logging.getLogger(__name__)


def main(argv=None):
    logging.register_options(CONF)
    conf_opts.set_defaults(CONF)
    CONF(sys.argv[1:] if argv is None else argv, project='migrator',
         prog='migrator-compute')
    logging.setup(CONF, 'migrator')
    rpc.init(CONF)
    compute_manager = manager.ComputeManager(CONF.host, CONF)
    # One heartbeat interval for every agent ([volume] report_interval).
    server = service.Service(rpc.COMPUTE_TOPIC, CONF.host, compute_manager,
                             report_interval=CONF.volume.report_interval)
    try:
        server.start()
    except Exception:
        LOG.exception('migrator-compute cannot start')
        return 1
    server.wait_forever()
    rpc.cleanup()
    return 0


if __name__ == '__main__':
    sys.exit(main())
