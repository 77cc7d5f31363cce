"""Notifications of the volume worker (what Ceilometer consumes).

Publisher ``migrator-volume.<host>``; event types
``volume.migration.start``, ``.progress``, ``.end`` (INFO) and
``.error`` (ERROR).  Payload::

    {"volume_id", "migration_id", "percentage", "bytes_done",
     "bytes_total"}                     (+ "error" for .error)
"""

from oslo_log import log as logging

from migrator_api.common import rpc
from migrator_api.rpcapi import payloads

LOG = logging.getLogger(__name__)

EVENT_PREFIX = 'volume.migration.'


class VolumeNotifier:

    def __init__(self, host):
        self._notifier = rpc.get_notifier('migrator-volume.%s' % host)

    def _emit(self, ctxt, event, migration_id, volume_id, bytes_done,
              bytes_total, error=None):
        payload = {
            'volume_id': volume_id,
            'migration_id': migration_id,
            'percentage': payloads.percentage(bytes_done, bytes_total),
            'bytes_done': bytes_done,
            'bytes_total': bytes_total,
        }
        emit = self._notifier.info
        if event == 'error':
            payload['error'] = error
            emit = self._notifier.error
        try:
            emit(ctxt, EVENT_PREFIX + event, payload)
        except Exception:
            LOG.exception('Cannot send notification %s%s of migration %s',
                          EVENT_PREFIX, event, migration_id)

    def start(self, ctxt, migration_id, volume_id, bytes_total):
        self._emit(ctxt, 'start', migration_id, volume_id, 0, bytes_total)

    def progress(self, ctxt, migration_id, volume_id, bytes_done,
                 bytes_total):
        self._emit(ctxt, 'progress', migration_id, volume_id, bytes_done,
                   bytes_total)

    def end(self, ctxt, migration_id, volume_id, bytes_total):
        self._emit(ctxt, 'end', migration_id, volume_id, bytes_total,
                   bytes_total)

    def error(self, ctxt, migration_id, volume_id, bytes_done, bytes_total,
              error):
        self._emit(ctxt, 'error', migration_id, volume_id, bytes_done,
                   bytes_total, error=error)
