"""The progress poller running beside a copy.

Every ``[volume] migration_progress_report_interval`` seconds it reads
how far the copy got, logs the percentage and hands
``(bytes_done, bytes_total)`` to its callbacks (the job wires them to
the conductor's ``copy_progress`` and to a progress notification).
"""

import threading

from oslo_log import log as logging

from migrator_api.common import threads
from migrator_api.rpcapi import payloads

LOG = logging.getLogger(__name__)


class ProgressPoller:

    def __init__(self, interval, get_progress, callbacks, label):
        """:param get_progress: returns (bytes_done, bytes_total).
        :param callbacks: each called with (bytes_done, bytes_total).
        :param label: names the copy in the logs.
        """
        self.interval = interval
        self._get_progress = get_progress
        self._callbacks = list(callbacks)
        self._label = label
        self._stop = threading.Event()
        self._thread = None

    def start(self):
        self._thread = threads.spawn('progress-%s' % self._label, self._run)

    def stop(self):
        """Stop polling; returns once no callback runs any more."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self):
        while not self._stop.wait(self.interval):
            self.poll()

    def poll(self):
        """Take and report one reading."""
        done, total = self._get_progress()
        LOG.info('Copy %s: %.2f%% (%d of %d bytes)', self._label,
                 payloads.percentage(done, total), done, total)
        for callback in self._callbacks:
            try:
                callback(done, total)
            except Exception:
                LOG.exception('Reporting the progress of copy %s failed',
                              self._label)
