"""Progress of running migrations: the copies, as the volume workers
report them, and the overlays of frozen guests, as the compute agents
report them."""

from oslo_log import log as logging
from oslo_utils import timeutils

from migrator_api.common import exception
from migrator_api.common import states
from migrator_api.conductor import machine
from migrator_api.conductor import migrate
from migrator_api.conductor import rollback
from migrator_api.db import api as db_api
from migrator_api.rpcapi import payloads

LOG = logging.getLogger(__name__)

# Weight of the newest sample in the smoothed rate.
_RATE_WEIGHT = 0.5


def record(migration_id, bytes_done, bytes_total):
    """Store a progress report: bytes, percentage source and rate."""
    mig = db_api.migration_get(migration_id)
    if mig.phase != states.P_COPYING:
        return False
    now = timeutils.utcnow()
    rate = mig.rate_bps
    if mig.progress_updated_at is not None and bytes_done >= mig.bytes_done:
        elapsed = timeutils.delta_seconds(mig.progress_updated_at, now)
        if elapsed > 0:
            sample = (bytes_done - mig.bytes_done) / elapsed
            rate = int(sample if rate is None
                       else _RATE_WEIGHT * sample + (1 - _RATE_WEIGHT) * rate)
    updated = db_api.migration_update(
        migration_id,
        {'bytes_done': bytes_done, 'bytes_total': bytes_total,
         'rate_bps': rate, 'progress_updated_at': now},
        expected={'phase': states.P_COPYING})
    if updated:
        LOG.info('Migration %s: %.1f%% copied (%d of %d bytes)',
                 migration_id, payloads.percentage(bytes_done, bytes_total),
                 bytes_done, bytes_total)
    return updated


#: The phases in which a guest may write into its overlay.
_FROZEN = (states.P_FREEZING, states.P_COPYING, states.P_SWITCHING)


def overlay(migration_id, overlay_bytes, error=None):
    """Store the compute agent's report of a frozen guest's overlay; an
    ``error`` says the agent gave the migration up (the guest is back on
    its source): the migration rolls back and ends in error."""
    try:
        mig = db_api.migration_get(migration_id)
    except exception.MigrationNotFound:
        LOG.warning('Overlay report of unknown migration %s', migration_id)
        return
    if mig.phase in _FROZEN or error is not None:
        # No move of the migration: its updated_at stays (the watchdog
        # reads it as the time of the last move).
        db_api.migration_update(
            migration_id, {'overlay_bytes': overlay_bytes,
                           'updated_at': mig.updated_at},
            expected={'phase': mig.phase})
    if error is None:
        return
    reason = ('the compute agent on %s rolled the guest back onto its '
              'source: %s' % (mig.compute_host, error))
    if not machine.may_roll_back(mig.phase, given_up=True):
        LOG.error('Migration %s (phase %s): %s', migration_id, mig.phase,
                  reason)
        return
    if rollback.record(mig, reason):
        migrate.spawn(migration_id)
