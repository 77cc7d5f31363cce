"""The volume worker's RPC endpoint (see migrator_volume.rpcapi).

Thin: the backends do the storage work, copy.job.CopyJob runs copies.
Copies live in memory only: after a restart the worker knows none
(get_copy_status answers None) and the conductor starts them again.
"""

import threading
import time

from oslo_config import cfg
from oslo_log import log as logging
import oslo_messaging as messaging

from migrator_api.common import context
from migrator_api.common import exception
from migrator_api.common import states
from migrator_api.conductor import rpcapi as conductor_rpcapi
from migrator_volume import backends as mbackends
from migrator_volume.copy import job as copy_job
from migrator_volume import notifications

LOG = logging.getLogger(__name__)

#: Seconds the worker remembers a finished copy for get_copy_status.
FINISHED_COPY_TTL = 3600
#: Seconds cancel_copy waits for the copy to stop writing.
CANCEL_WAIT = 30


class VolumeManager:
    target = messaging.Target(version='1.0')

    def __init__(self, host=None, conf=None, backends=None):
        """:param backends: {name: driver}; loaded from the
        configuration by init_host() when not given."""
        self.conf = conf or cfg.CONF
        self.host = host or self.conf.host
        self.backends = backends
        self._jobs = {}
        self._jobs_lock = threading.Lock()
        self._conductor = None
        self._notifier = None

    @property
    def conductor(self):
        if self._conductor is None:
            self._conductor = conductor_rpcapi.ConductorAPI()
        return self._conductor

    @property
    def notifier(self):
        if self._notifier is None:
            self._notifier = notifications.VolumeNotifier(self.host)
        return self._notifier

    def init_host(self):
        if self.backends is None:
            self.backends = mbackends.load_backends(self.conf)
        LOG.info('Volume worker %s serves backends: %s', self.host,
                 ', '.join(sorted(self.backends)) or 'none')

    def cleanup_host(self):
        """Stop the running copies (on service stop)."""
        with self._jobs_lock:
            running = [j for j in self._jobs.values() if j.running]
        for job in running:
            job.cancel()
        for job in running:
            job.wait(CANCEL_WAIT)

    def report_state(self):
        stats = []
        for name, driver in sorted(self.backends.items()):
            try:
                stats.append(driver.get_stats())
            except Exception:
                LOG.exception('Cannot read the stats of backend %s', name)
        self.conductor.report_state(context.get_admin_context(), self.host,
                                    states.BINARY_VOLUME, backends=stats)

    def create_volume(self, ctxt, backend, volume_id, size):
        driver = mbackends.get_backend(self.backends, backend)
        return driver.create_volume(volume_id, size)

    def delete_volume(self, ctxt, backend, volume_id, location):
        driver = mbackends.get_backend(self.backends, backend)
        with self._jobs_lock:
            for job in self._jobs.values():
                if job.running and job.involves(location):
                    raise exception.Conflict(
                        reason='volume %s is being copied by migration %s'
                               % (volume_id, job.migration_id))
        driver.delete_volume(volume_id, location)

    def copy_volume(self, ctxt, migration_id, volume_id, src_location,
                    dst_backend, dst_location, size):
        with self._jobs_lock:
            job = self._jobs.get(migration_id)
            if job is not None and job.running:
                LOG.info('Copy %s is already running', migration_id)
                return
            self._forget_finished()
            job = copy_job.CopyJob(
                ctxt, self.conf, self.backends, self.conductor,
                self.notifier, migration_id, volume_id, src_location,
                dst_backend, dst_location, size)
            self._jobs[migration_id] = job
        job.start()

    def _forget_finished(self):
        limit = time.monotonic() - FINISHED_COPY_TTL
        for migration_id, job in list(self._jobs.items()):
            if not job.running and job.finished_at < limit:
                del self._jobs[migration_id]

    def cancel_copy(self, ctxt, migration_id):
        """Cancel and wait until the copy no longer writes."""
        with self._jobs_lock:
            job = self._jobs.get(migration_id)
        if job is None or not job.running:
            return False
        job.cancel()
        if not job.wait(CANCEL_WAIT):
            LOG.warning('Copy %s still running %d s after its cancellation',
                        migration_id, CANCEL_WAIT)
        return True

    def get_copy_status(self, ctxt, migration_id):
        with self._jobs_lock:
            job = self._jobs.get(migration_id)
        return None if job is None else job.status()
