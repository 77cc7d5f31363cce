"""Which conductor drives a migration: its claim in the database.

Any number of conductors may run; each migration is driven by one at a
time.  Before a conductor runs a migration's phases (``migrate.run``)
it claims it: a compare-and-swap of ``conductor_host`` and
``claimed_at`` against the values it read, which succeeds when nobody
holds the migration, when this conductor does, or when the holder has
not renewed its claim for ``[conductor] claim_timeout`` seconds (it
died or lost the database).  The holder renews its claims at every
heartbeat and releases a migration as soon as it waits for a report
(the copy's end, the fold-in's end) or ends.

Reports and cancels reach whichever conductor RabbitMQ hands them to;
their writes are compare-and-swap updates of the phase, and the
conductor that then carries the migration on claims it first.  The
watchdog hands the migrations of a conductor whose claim expired to
``migrate.spawn``, whose claim takes them over.
"""

import threading

from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import timeutils

from migrator_api.db import api as db_api

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

#: The migrations the conductor of this process holds.
_held = set()
_held_guard = threading.Lock()


def me():
    return CONF.host


def expired(mig, now=None):
    """Whether the claim on ``mig`` is older than claim_timeout (True
    for a migration nobody claims)."""
    if mig.conductor_host is None or mig.claimed_at is None:
        return True
    age = timeutils.delta_seconds(mig.claimed_at, now or timeutils.utcnow())
    return age >= CONF.conductor.claim_timeout


def holds(mig):
    return mig.conductor_host == me()


def claim(mig):
    """Claim ``mig`` (as read) for this conductor; False if another
    conductor holds it (or claimed it since ``mig`` was read)."""
    if mig.conductor_host not in (None, me()) and not expired(mig):
        return False
    claimed = db_api.migration_claims_update(
        [mig.id], {'conductor_host': me(), 'claimed_at': timeutils.utcnow()},
        expected={'conductor_host': mig.conductor_host,
                  'claimed_at': mig.claimed_at})
    if not claimed:
        return False
    with _held_guard:
        _held.add(mig.id)
    if mig.conductor_host not in (None, me()):
        LOG.warning('Migration %s: taken over from conductor %s, whose '
                    'claim was last renewed at %s', mig.id,
                    mig.conductor_host, mig.claimed_at)
    return True


def release(migration_id):
    """Give up the claim (when the migration waits or ended)."""
    with _held_guard:
        _held.discard(migration_id)
    db_api.migration_claims_update(
        [migration_id], {'conductor_host': None, 'claimed_at': None},
        expected={'conductor_host': me()})


def renew():
    """Renew the claims of this conductor (its heartbeat); the ids of
    the migrations it no longer holds (taken over meanwhile)."""
    with _held_guard:
        held = sorted(_held)
    if not held:
        return []
    renewed = db_api.migration_claims_update(
        held, {'claimed_at': timeutils.utcnow()},
        expected={'conductor_host': me()})
    with _held_guard:
        # Not renewed and not released meanwhile: taken over.
        lost = sorted((set(held) - set(renewed)) & _held)
    for migration_id in lost:
        LOG.warning('Migration %s: another conductor took it over',
                    migration_id)
    return lost
