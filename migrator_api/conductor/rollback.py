"""Rolling a migration back, from any phase before the switch.

``record`` moves the migration into ``rolling_back`` (a compare-and-swap
on the phase it was read in, so that of two actors rolling back or
moving on, one wins); the phase's handler ``roll_back`` then undoes the
forward path, each step idempotent: the guest's writes go to the source
again, the copy is stopped and the export of the source it read from
another host closed, the destination is deleted (its backend's
capacity recorded at once), and the migration ends ``cancelled`` or
``error``.
"""

from oslo_log import log as logging
from oslo_utils import timeutils

from migrator_api.common import exception
from migrator_api.common import states
from migrator_api.conductor import attachments
from migrator_api.conductor import machine
from migrator_api.conductor import volumes
from migrator_api.db import api as db_api

LOG = logging.getLogger(__name__)

CANCELLED = 'cancelled by request'


def record(mig, reason, cancelled=False):
    """Record phase rolling_back; False if ``mig`` moved on since read."""
    machine.check_move(mig.phase, states.P_ROLLING_BACK)
    LOG.warning('Migration %s of volume %s: rolling back (%s)', mig.id,
                mig.volume_id, reason)
    # The status stays as it is while an error is rolled back, so that
    # "error" means "rolled back"; a cancel shows as cancelling.
    values = {'phase': states.P_ROLLING_BACK,
              'error': None if cancelled else reason}
    volume_values = None
    if cancelled:
        values['status'] = states.M_CANCELLING
        volume_values = {'migration_status': states.M_CANCELLING}
    return db_api.migration_and_volume_update(
        mig.id, values, mig.volume_id, volume_values,
        expected={'phase': mig.phase})


def roll_back(ctxt, mig):
    """The handler of phase rolling_back; ends the migration."""
    if mig.frozen:
        # The source is writable again at once; the agent writes the
        # overlay back and reports it (compute_finished).
        attachments.compute_rpc().volume_migration_cancel(
            ctxt, mig.compute_host, mig.instance_uuid, mig.attachment_id,
            mig.id)
    if mig.copy_host is not None:
        try:
            volumes.volume_rpc().cancel_copy(ctxt, mig.copy_host, mig.id)
        except Exception:
            LOG.exception('Migration %s: cancelling the copy on %s failed',
                          mig.id, mig.copy_host)
            raise
        volumes.close_copy_source(ctxt, mig)
    if mig.dest_volume_id is not None:
        try:
            dst = db_api.volume_get(mig.dest_volume_id, include_hidden=True)
        except exception.VolumeNotFound:
            dst = None
        if dst is not None:
            volumes.destroy(ctxt, dst)
    cancelled = mig.status == states.M_CANCELLING
    final = states.M_CANCELLED if cancelled else states.M_ERROR
    volume_values = {'migration_status': final}
    if mig.force:
        volume_values['status'] = mig.previous_volume_status
    db_api.migration_and_volume_update(
        mig.id, {'phase': states.P_DONE, 'status': final,
                 'finished_at': timeutils.utcnow()},
        mig.volume_id, volume_values,
        expected={'phase': states.P_ROLLING_BACK})
    LOG.info('Migration %s of volume %s ended: %s%s', mig.id, mig.volume_id,
             final, '' if cancelled else ' (%s)' % mig.error)
    return False
