"""``migrator-volume``: the volume worker of one host.

Serves the backends of ``[volume] enabled_backends`` on the
``migrator-volume`` topic as server ``[DEFAULT] host``.
"""

import sys

from migrator_api.common import rpc
from migrator_api.common import service
from migrator_volume import manager


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    return service.run_agent('migrator-volume', rpc.VOLUME_TOPIC,
                             manager.VolumeManager, argv)


if __name__ == '__main__':
    sys.exit(main())
