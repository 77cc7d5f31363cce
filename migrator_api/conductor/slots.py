"""Concurrency limits: a queued migration takes its slots as it starts.

A migration is accepted in phase (and status) ``queued``, with nothing
created.  It starts (phase ``creating_destination``, status
``starting``) in one compare-and-swap that also takes its slots: the
service rows of the hosts its slots are on are locked first, so that of
two conductors starting migrations that share a slot one waits for the
other's commit, and the state machine's rule (``machine.waits_for``)
then counts, in the same transaction, the migrations holding those
slots and those queued before it.  A migration beyond a limit stays
queued, never fails for it; it is tried again when a migration ends,
when a queued one is cancelled, and at every watchdog pass
(``migrate.start_queued``), in the order the migrations were accepted.
"""

import functools
import threading

from oslo_log import log as logging
from oslo_utils import timeutils

from migrator_api.common import states
from migrator_api.conductor import claims
from migrator_api.conductor import machine
from migrator_api.db import api as db_api

LOG = logging.getLogger(__name__)

STARTED = 'started'
WAITING = 'waiting'
CHANGED = 'changed'     # no longer holds what was expected


def _slots(mig):
    limit = machine.limits()
    if not any(limit):
        return None
    hosts = {mig.source_backend.host, mig.dest_backend.host}
    services = [(host, states.BINARY_VOLUME) for host in hosts]
    if mig.compute_host is not None:
        services.append((mig.compute_host, states.BINARY_COMPUTE))
    return (services, hosts, mig.compute_host,
            functools.partial(machine.waits_for, limit=limit))


def start(mig):
    """Move the queued ``mig`` (as read) on to its next phase, its
    destination volume recorded, if its slots are free and it is still
    queued with no cancel requested: STARTED, WAITING or CHANGED."""
    expected = {'phase': states.P_QUEUED, 'cancel_requested': False}
    following = machine.next_phase(mig)
    machine.check_move(mig.phase, following)
    status = machine.status_of(following)
    volume = db_api.volume_get(mig.volume_id)
    dst_id, reason = db_api.migration_create_destination(
        mig.id, {'name': 'migration-%s' % mig.id, 'size': volume.size,
                 'backend_id': mig.dest_backend_id, 'project_id': None,
                 'user_id': None},
        expected,
        {'phase': following, 'status': status,
         'started_at': timeutils.utcnow()},
        migration_volume_values={'migration_status': status},
        slots=_slots(mig))
    if dst_id is not None:
        LOG.info('Migration %s of volume %s started', mig.id, mig.volume_id)
        return STARTED
    if reason is not None:
        LOG.debug('Migration %s stays queued (%s)', mig.id, reason)
        return WAITING
    return CHANGED


_pass_lock = threading.Lock()


def start_queued(spawn):
    """Try the queued migrations, in the order they were accepted (the
    rule of machine.waits_for keeps that order whichever conductor
    tries); ``spawn`` drives on each that started or changed meanwhile
    (a cancel to roll back).  One pass at a time in this process; those
    a live conductor holds are left to it."""
    with _pass_lock:
        for mig in db_api.migration_get_queued():
            if mig.conductor_host not in (None, claims.me()) and \
                    not claims.expired(mig):
                continue
            try:
                outcome = CHANGED if mig.cancel_requested else start(mig)
            except Exception:
                LOG.exception('Migration %s: starting it failed; it stays '
                              'queued and is tried again', mig.id)
                continue
            if outcome != WAITING:
                spawn(mig.id)
