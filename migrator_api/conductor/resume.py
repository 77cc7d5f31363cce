"""A copy whose volume worker restarted, and which can resume.

The worker that starts finds the copy in its journal, still running,
with its watermark (every byte below is on the destination) and asks
(``copy_interrupted``).  The source is frozen as long as the migration
is copying, so what the destination holds below the watermark is still
the source's: when the migration still wants the copy (it is copying,
on that host, not being cancelled, its destination volume is there and
the volume has the size copied) the copy is cast again with
``resume_from``; otherwise it ends as interrupted, as before resumes
existed (the migration rolls back).  A cancel that comes meanwhile is
honoured: the worker never starts a copy cancelled before it arrived.
"""

from oslo_log import log as logging
from oslo_utils import timeutils

from migrator_api.common import context as mcontext
from migrator_api.common import exception
from migrator_api.common import states
from migrator_api.conductor import migrate
from migrator_api.conductor import volumes
from migrator_api.db import api as db_api

LOG = logging.getLogger(__name__)

INTERRUPTED = 'the volume worker restarted; the copy was interrupted'


def copy_interrupted(migration_id, host, resume_from, bytes_total):
    """The worker's report (any conductor)."""
    mig = db_api.migration_get(migration_id)
    if mig.phase != states.P_COPYING:
        LOG.info('Migration %s: resume request of its copy ignored in phase '
                 '%s', migration_id, mig.phase)
        return
    why = _cannot_resume(mig, host, bytes_total)
    if why is None and not db_api.migration_update(
            migration_id, {'bytes_done': resume_from,
                           'progress_updated_at': timeutils.utcnow()},
            expected={'phase': states.P_COPYING, 'cancel_requested': False}):
        return      # cancelled (or moved on) meanwhile: not resumed
    if why is None:
        why = _cast(mig, host, resume_from)
    if why is not None:
        LOG.warning('Migration %s: its copy on %s cannot resume: %s',
                    migration_id, host, why)
        migrate.copy_finished(migration_id, mig.bytes_done, bytes_total,
                              '%s; it cannot resume: %s' % (INTERRUPTED,
                                                            why))


def _cannot_resume(mig, host, bytes_total):
    if mig.cancel_requested:
        return 'the migration is being cancelled'
    if mig.copy_host != host:
        return 'the copy runs on %s' % mig.copy_host
    try:
        volume = db_api.volume_get(mig.volume_id)
        dst = db_api.volume_get(mig.dest_volume_id, include_hidden=True)
    except exception.NotFound:
        return 'its destination volume is gone'
    if dst.location is None or dst.status == states.DELETING:
        return 'its destination volume is gone'
    if volume.size != bytes_total:
        return 'the volume holds %d bytes, not the %d being copied' % (
            volume.size, bytes_total)
    return None


def _cast(mig, host, resume_from):
    """Cast the copy again; why it could not be, or None."""
    ctxt = mcontext.get_admin_context()
    rpc = volumes.volume_rpc()
    if not rpc.can_send_version('1.3'):
        return 'the volume worker is pinned to an RPC version without ' \
               'resumes'
    volume = db_api.volume_get(mig.volume_id)
    dst = db_api.volume_get(mig.dest_volume_id, include_hidden=True)
    try:
        src = volumes.reach(ctxt, mig.source_backend, volume, host)
        rpc.copy_volume(ctxt, host, mig.id, volume.id, src,
                        mig.dest_backend.name, dst.location, volume.size,
                        resume_from=resume_from)
    except Exception as exc:
        LOG.exception('Migration %s: cannot resume its copy', mig.id)
        return exception.describe(exc)
    LOG.info('Migration %s: its copy on %s resumes from offset %d of %d',
             mig.id, host, resume_from, volume.size)
    return None
