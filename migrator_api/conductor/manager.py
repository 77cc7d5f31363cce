"""The conductor's RPC endpoint: thin, each call delegates to a flow."""

from oslo_log import log as logging
import oslo_messaging as messaging

from migrator_api.common import states
from migrator_api.common import threads
from migrator_api.conductor import attachments
from migrator_api.conductor import claims
from migrator_api.conductor import migrate
from migrator_api.conductor import progress
from migrator_api.conductor import resume
from migrator_api.conductor import volumes
from migrator_api.conductor import watchdog
from migrator_api.db import api as db_api

LOG = logging.getLogger(__name__)


class ConductorManager:

    target = messaging.Target(version='1.2')

    def __init__(self, host):
        self.host = host
        self._watchdog = watchdog.Watchdog()

    def init_host(self):
        self._watchdog.start()

    def cleanup_host(self):
        self._watchdog.stop()

    def heartbeat(self):
        """Tell that this conductor is up, and renew its claims."""
        db_api.service_report(self.host, states.BINARY_CONDUCTOR)
        claims.renew()

    # From the API.
    def create_volume(self, ctxt, volume_id):
        threads.spawn('volume-create', volumes.create, volume_id)

    def delete_volume(self, ctxt, volume_id):
        threads.spawn('volume-delete', volumes.delete, volume_id)

    def attach_volume(self, ctxt, attachment_id):
        threads.spawn('volume-attach', attachments.attach, attachment_id)

    def detach_volume(self, ctxt, attachment_id):
        threads.spawn('volume-detach', attachments.detach, attachment_id)

    def start_migration(self, ctxt, migration_id):
        migrate.spawn(migration_id)

    def cancel_migration(self, ctxt, migration_id):
        migrate.cancel(migration_id)

    # From the agents.
    def report_state(self, ctxt, host, binary, backends=None):
        db_api.service_report(host, binary)
        if backends is not None:
            db_api.backend_sync(host, backends)

    def copy_progress(self, ctxt, migration_id, bytes_done, bytes_total):
        progress.record(migration_id, bytes_done, bytes_total)

    def copy_finished(self, ctxt, migration_id, bytes_done, bytes_total,
                      error=None):
        migrate.copy_finished(migration_id, bytes_done, bytes_total, error)

    def copy_interrupted(self, ctxt, migration_id, host, resume_from,
                         bytes_total):
        # (1.2)
        resume.copy_interrupted(migration_id, host, resume_from, bytes_total)

    def compute_migration_finished(self, ctxt, migration_id, operation,
                                   error=None):
        migrate.compute_finished(migration_id, operation, error)

    def overlay_progress(self, ctxt, migration_id, overlay_bytes,
                         error=None):
        # (1.1)
        progress.overlay(migration_id, overlay_bytes, error)
