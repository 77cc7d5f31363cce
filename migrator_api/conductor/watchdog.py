"""Recovery and supervision of migrations and volumes.

At start-up and then every ``min(copy_report_timeout, claim_timeout) /
2`` seconds each conductor looks at what is recorded as running and
carries it on:

* a copy whose worker has not reported for ``copy_report_timeout``
  seconds is looked up on the worker: still running, it waits; ended,
  its end is taken as reported; unknown, the migration rolls back (a
  worker that restarts reports the copies it lost as it starts: this is
  the fallback when that report is lost too);
* a migration claimed by a conductor that has not renewed its claim
  for ``claim_timeout`` seconds (it died) is taken over
  (conductor.claims); one claimed by a live conductor is left to it;
* a migration in any other running phase that has not moved for
  ``copy_report_timeout`` seconds (a step failed and must be retried, or
  a report was lost) is resumed from its recorded phase;
* the queued migrations are tried, in the order they were accepted
  (conductor.slots): those whose slots are free start (a slot freed by
  a migration's end starts the next at once; this pass is the fallback
  when that conductor died first);
* volumes left ``creating`` or ``deleting`` are driven again.
"""

import threading

from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import timeutils

from migrator_api.common import context as mcontext
from migrator_api.common import exception
from migrator_api.common import states
from migrator_api.common import threads
from migrator_api.conductor import claims
from migrator_api.conductor import migrate
from migrator_api.conductor import slots
from migrator_api.conductor import volumes
from migrator_api.db import api as db_api
from migrator_api.rpcapi import volume as volume_rpcapi

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


def _stale(row, since, now):
    last = row.updated_at or row.created_at
    return timeutils.delta_seconds(last, now) >= since


def check_copy(mig):
    """Ask the worker about a copy that stopped reporting."""
    ctxt = mcontext.get_admin_context()
    try:
        status = volume_rpcapi.VolumeAPI(
            timeout=CONF.conductor.rpc_call_timeout).get_copy_status(
                ctxt, mig.copy_host, mig.id)
    except Exception as exc:
        LOG.warning('Migration %s: cannot reach the worker on %s: %s',
                    mig.id, mig.copy_host, exception.describe(exc))
        return
    if status is None:
        migrate.copy_finished(
            mig.id, mig.bytes_done, mig.bytes_total,
            'the volume worker on %s no longer knows this copy (it was '
            'restarted)' % mig.copy_host)
    elif status['state'] == 'running':
        db_api.migration_update(mig.id,
                                {'progress_updated_at': timeutils.utcnow()},
                                expected={'phase': states.P_COPYING})
    else:
        error = None if status['state'] == 'done' else (
            status.get('error') or 'copy %s' % status['state'])
        migrate.copy_finished(mig.id, status['bytes_done'],
                              status['bytes_total'], error)


def _driven(mig, now, startup):
    """Whether a live conductor drives ``mig`` (then it is left alone);
    a claim that expired is taken over (migrate.run claims it)."""
    if mig.conductor_host is None:
        return False
    if claims.holds(mig) and startup:
        return False    # held by this conductor's previous run
    if not claims.expired(mig, now):
        return True
    if not claims.holds(mig):
        LOG.warning('Migration %s: conductor %s has not renewed its claim '
                    'for %d seconds: taking the migration over', mig.id,
                    mig.conductor_host, CONF.conductor.claim_timeout)
    return False


def sweep(startup=False):
    """One pass over everything recorded as running."""
    now = timeutils.utcnow()
    timeout = CONF.conductor.copy_report_timeout
    for mig in db_api.migration_get_running():
        if mig.conductor_host is not None:
            if not _driven(mig, now, startup):
                migrate.spawn(mig.id)
        elif mig.phase == states.P_QUEUED:
            continue    # slots.start_queued, below, in order
        elif mig.phase == states.P_COPYING:
            last = mig.progress_updated_at or mig.updated_at
            if timeutils.delta_seconds(last, now) >= timeout:
                check_copy(mig)
        elif startup or _stale(mig, timeout, now):
            LOG.info('Migration %s: resuming from phase %s', mig.id,
                     mig.phase)
            migrate.spawn(mig.id)
    slots.start_queued(migrate.spawn)
    for volume in db_api.volume_get_in_status((states.CREATING,
                                               states.DELETING)):
        if volume.hidden:
            continue  # driven by its migration
        if startup or _stale(volume, timeout, now):
            if volume.status == states.CREATING:
                threads.spawn('volume-create', volumes.create, volume.id)
            else:
                threads.spawn('volume-delete', volumes.delete, volume.id)


class Watchdog:

    def __init__(self):
        self._stop = threading.Event()
        self._thread = None

    def start(self):
        self._thread = threads.spawn('conductor-watchdog', self._loop)

    def _loop(self):
        startup = True
        interval = max(1, min(CONF.conductor.copy_report_timeout,
                              CONF.conductor.claim_timeout) // 2)
        while True:
            try:
                sweep(startup=startup)
                startup = False
            except Exception:
                LOG.exception('Conductor watchdog pass failed')
            if self._stop.wait(interval):
                return

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
