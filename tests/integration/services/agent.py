"""The volume worker of the multi-process tests: migrator-volume itself,
or one of two variants, chosen by the environment.

``MIGRATOR_TEST_WORKER=old``
    The release before volume RPC 1.1: its endpoint's target is 1.0 and
    it has no ``get_backend_stats`` (a rolling upgrade's older agent).
``MIGRATOR_TEST_SLOW_CREATE=PATH``
    While the file PATH exists, each ``create_volume`` first sleeps the
    seconds it holds (a conductor can be killed while it waits).

    python -m tests.integration.services.agent --config-file F ...
"""

import os
import sys
import time

import oslo_messaging as messaging

from migrator_api.common import rpc
from migrator_api.common import service
from migrator_volume import manager


class OldVolumeManager(manager.VolumeManager):
    """Volume RPC 1.0: get_backend_stats does not exist yet."""

    target = messaging.Target(version='1.0')

    def __getattribute__(self, name):
        if name == 'get_backend_stats':
            raise AttributeError(name)
        return super().__getattribute__(name)


class SlowCreateVolumeManager(manager.VolumeManager):

    def create_volume(self, ctxt, backend, volume_id, size):
        try:
            with open(os.environ['MIGRATOR_TEST_SLOW_CREATE']) as f:
                time.sleep(float(f.read()))
        except FileNotFoundError:
            pass
        return super().create_volume(ctxt, backend, volume_id, size)


def main(argv):
    if os.environ.get('MIGRATOR_TEST_WORKER') == 'old':
        make = OldVolumeManager
    elif os.environ.get('MIGRATOR_TEST_SLOW_CREATE'):
        make = SlowCreateVolumeManager
    else:
        make = manager.VolumeManager
    return service.run_agent('migrator-volume', rpc.VOLUME_TOPIC, make,
                             argv)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
