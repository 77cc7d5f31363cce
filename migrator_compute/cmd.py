"""``migrator-compute``: the compute agent of one hypervisor host.

Serves the compute contract with the ``[compute] driver`` on the
``migrator-compute`` topic as server ``[DEFAULT] host``.  At start it
finishes or rolls back whatever its journal shows was under way and
reports the ends it owes to the conductor.
"""

import sys

from migrator_api.common import rpc
from migrator_api.common import service
from migrator_compute import manager


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    return service.run_agent('migrator-compute', rpc.COMPUTE_TOPIC,
                             manager.ComputeManager, argv)


if __name__ == '__main__':
    sys.exit(main())
