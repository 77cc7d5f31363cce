"""Progress of running copies, as the volume workers report it."""

from oslo_log import log as logging
from oslo_utils import timeutils

from migrator_api.common import states
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
