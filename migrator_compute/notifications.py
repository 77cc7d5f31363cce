"""Notifications of the compute agent (what Ceilometer consumes).

Publisher ``migrator-compute.<host>``; event types
``volume.migration.overlay`` (INFO: the size of a frozen guest's
overlay, every ``[compute] overlay_report_interval`` seconds) and
``volume.migration.overlay_exceeded`` (ERROR: the agent gave the
migration up and the guest is back on its source).  Payload::

    {"migration_id", "overlay_bytes"}   (+ "error" for overlay_exceeded)
"""

from oslo_log import log as logging

from migrator_api.common import rpc

LOG = logging.getLogger(__name__)

OVERLAY = 'volume.migration.overlay'
OVERLAY_EXCEEDED = 'volume.migration.overlay_exceeded'


class ComputeNotifier:

    def __init__(self, host):
        self._notifier = rpc.get_notifier('migrator-compute.%s' % host)

    def overlay(self, ctxt, migration_id, overlay_bytes, error=None):
        payload = {'migration_id': migration_id,
                   'overlay_bytes': overlay_bytes}
        event, emit = OVERLAY, self._notifier.info
        if error is not None:
            payload['error'] = error
            event, emit = OVERLAY_EXCEEDED, self._notifier.error
        try:
            emit(ctxt, event, payload)
        except Exception:
            LOG.exception('Cannot send notification %s of migration %s',
                          event, migration_id)
