"""``migrator-volume``: the volume worker of one host.

Serves the backends of ``[volume] enabled_backends`` on the
``migrator-volume`` topic as server ``[DEFAULT] host``.
"""

import sys

from oslo_log import log as logging

from migrator_api import conf as mconf
from migrator_api.common import rpc
from migrator_api.common import service
from migrator_api.conf import opts as conf_opts
from migrator_volume import manager

CONF = mconf.CONF
LOG = logging.getLogger(__name__)


def main(argv=None):
    logging.register_options(CONF)
    conf_opts.set_defaults(CONF)
    CONF(sys.argv[1:] if argv is None else argv, project='migrator',
         prog='migrator-volume')
    logging.setup(CONF, 'migrator')
    rpc.init(CONF)
    volume_manager = manager.VolumeManager(CONF.host, CONF)
    server = service.Service(rpc.VOLUME_TOPIC, CONF.host, volume_manager,
                             report_interval=CONF.volume.report_interval)
    try:
        server.start()
    except Exception:
        LOG.exception('migrator-volume cannot start')
        return 1
    server.wait_forever()
    rpc.cleanup()
    return 0


if __name__ == '__main__':
    sys.exit(main())
