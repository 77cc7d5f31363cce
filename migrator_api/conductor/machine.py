"""The migration state machine, in one place: its phases, the moves
allowed between them, which phases roll back and which only go
forward, and the rules a migration must pass to be accepted.

A migration's *status* (mirrored in its volume's ``migration_status``)
is what operators filter on; its *phase* is the step being taken.  The
conductor records each phase (a compare-and-swap on the phase it read)
before it takes the phase's step, and every step is idempotent, so
whichever conductor holds the migration next resumes from the recorded
phase.  The steps themselves are in ``migrate.py`` (forward) and
``rollback.py``; the db layer performs the writes decided here.

``table()`` prints the machine; doc/source/contributor/architecture.rst
shows that text and a test keeps the two the same.
"""

import collections

from oslo_config import cfg

from migrator_api.common import exception
from migrator_api.common import states as S

CONF = cfg.CONF

#: What happens when a phase's step fails.
ROLL_BACK = 'roll back'     # undo everything: error (or cancelled)
RETRY = 'retry'             # past the point of no return: retried

Phase = collections.namedtuple(
    'Phase', 'name status in_use_only cancellable on_failure next')
Phase.__doc__ = """One phase: the migration status it shows, whether only
a migration of an attached volume goes through it, whether a cancel is
accepted in it, what a failure of its step does, and the phases it may
move on to (the first that applies to the migration)."""

PHASES = collections.OrderedDict((p.name, p) for p in (
    # Accepted, nothing created: waits for a slot under the concurrency
    # limits (``waits_for``); a cancel ends it at once (``done``).
    Phase(S.P_QUEUED, S.M_QUEUED, False, True, ROLL_BACK,
          (S.P_CREATING_DESTINATION, S.P_DONE)),
    Phase(S.P_CREATING_DESTINATION, S.M_STARTING, False, True, ROLL_BACK,
          (S.P_FREEZING, S.P_COPYING)),
    Phase(S.P_FREEZING, S.M_STARTING, True, True, ROLL_BACK,
          (S.P_COPYING,)),
    Phase(S.P_COPYING, S.M_MIGRATING, False, True, ROLL_BACK,
          (S.P_SWITCHING, S.P_FINALIZING)),
    # The compute agent may have switched the guest even when its answer
    # was lost: a failed switch is retried (complete is idempotent).
    Phase(S.P_SWITCHING, S.M_COMPLETING, True, False, RETRY,
          (S.P_FINALIZING,)),
    # One transaction makes the volume live on the destination.
    Phase(S.P_FINALIZING, S.M_COMPLETING, False, False, RETRY,
          (S.P_DELETING_SOURCE,)),
    Phase(S.P_DELETING_SOURCE, S.M_COMPLETING, False, False, RETRY,
          (S.P_FOLDING, S.P_DONE)),
    Phase(S.P_FOLDING, S.M_COMPLETING, True, False, RETRY, (S.P_DONE,)),
    # Keeps the status it had (cancelling for a cancel).
    Phase(S.P_ROLLING_BACK, None, False, False, RETRY, (S.P_DONE,)),
    # success, error or cancelled.
    Phase(S.P_DONE, None, False, False, None, ()),
))

CANCELLABLE = tuple(p.name for p in PHASES.values() if p.cancellable)
ROLLS_BACK = tuple(p.name for p in PHASES.values()
                   if p.on_failure == ROLL_BACK)
RETRIED = tuple(p.name for p in PHASES.values() if p.on_failure == RETRY)
#: Past the point of no return only on the conductor's side: when the
#: compute agent gave the migration up (it rolled the guest back onto the
#: source itself, its overlay outgrew its room) the switch never
#: happened, so a migration in these phases rolls back too
#: (``may_roll_back(phase, given_up=True)``).
GIVEN_UP_ROLLS_BACK = (S.P_SWITCHING,)


def transitions():
    """Every allowed move, ``(from, to)``, rollbacks included."""
    moves = [(p.name, n) for p in PHASES.values() for n in p.next]
    moves += [(name, S.P_ROLLING_BACK)
              for name in ROLLS_BACK + GIVEN_UP_ROLLS_BACK]
    return moves


def may_roll_back(phase, given_up=False):
    """Whether a failure in ``phase`` rolls the migration back; with
    ``given_up``, a failure the compute agent's own rollback caused."""
    return phase in ROLLS_BACK or (given_up and
                                   phase in GIVEN_UP_ROLLS_BACK)


def check_move(from_phase, to_phase):
    """A programming error (not a user's) for a move not in the table."""
    if (from_phase, to_phase) not in transitions():
        raise exception.MigratorException(
            'migration phase %s cannot be followed by %s'
            % (from_phase, to_phase))


def next_phase(mig, phase=None):
    """The phase that follows ``phase`` (default: the recorded one) for
    this migration: phases of attached volumes only when it has an
    attachment."""
    for name in PHASES[phase or mig.phase].next:
        if not PHASES[name].in_use_only or mig.attachment_id is not None:
            return name
    raise exception.MigratorException('phase %s is the last' % phase)


def status_of(phase):
    """The status a running migration shows in ``phase`` (None: kept)."""
    return PHASES[phase].status


def table():
    """The machine as text (the architecture document shows it)."""
    rows = [('phase', 'status', 'attached only', 'cancel', 'on failure',
             'next')]
    for p in PHASES.values():
        nxt = list(p.next) + ([S.P_ROLLING_BACK]
                              if p.on_failure == ROLL_BACK else [])
        rows.append((p.name, p.status or '-', 'yes' if p.in_use_only
                     else '', 'yes' if p.cancellable else '',
                     p.on_failure or '-', ', '.join(nxt) or '-'))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return '\n'.join('  '.join(c.ljust(w) for c, w in zip(r, widths))
                     .rstrip() for r in rows)


# -- concurrency limits -----------------------------------------------------

Limits = collections.namedtuple('Limits', 'worker backend compute_host')
Limits.__doc__ = """How many migrations may hold a slot at once per volume
worker host, per backend and per compute host ([conductor]
max_concurrent_*); 0: unlimited."""


def limits():
    c = CONF.conductor
    return Limits(c.max_concurrent_copies_per_worker,
                  c.max_concurrent_copies_per_backend,
                  c.max_concurrent_live_migrations)


def resources(mig, host_of):
    """The slots a migration takes: ``('worker', host)`` of its source's
    and its destination's volume workers, ``('backend', id)`` of both
    backends, and ``('compute_host', host)`` for an attached volume.
    ``host_of`` maps the backend ids it knows to their hosts."""
    keys = set()
    for backend_id in (mig.source_backend_id, mig.dest_backend_id):
        keys.add(('backend', backend_id))
        if backend_id in host_of:
            keys.add(('worker', host_of[backend_id]))
    if mig.compute_host is not None:
        keys.add(('compute_host', mig.compute_host))
    return keys


def _ahead(mig, other):
    """Whether ``other`` comes first: it holds a slot (started), or it
    is queued and was accepted earlier (FIFO by created_at, then id)."""
    if other.status in S.MIGRATION_STARTED:
        return True
    return other.status == S.M_QUEUED and (
        (other.created_at, other.id) < (mig.created_at, mig.id))


def waits_for(mig, others, host_of, limit):
    """Why the queued ``mig`` must wait (the first full limit, as text),
    or None: it may start.  ``others``: the unfinished migrations that
    may share a slot with it.  On each of its limited slots, the
    migrations holding it and those queued before ``mig`` for it must be
    fewer than the limit: a migration never overtakes an earlier one,
    which keeps its place however long it waits."""
    caps = {'worker': limit.worker, 'backend': limit.backend,
            'compute_host': limit.compute_host}
    mine = resources(mig, host_of)
    ahead = [resources(o, host_of) for o in others
             if o.id != mig.id and _ahead(mig, o)]
    for kind, key in sorted(mine, key=str):
        cap = caps[kind]
        used = sum(1 for keys in ahead if (kind, key) in keys)
        if cap and used >= cap:
            name = 'backend %s' % key if kind == 'backend' else (
                'volume worker %s' % key if kind == 'worker'
                else 'compute host %s' % key)
            return ('%s: %d migration(s) running or queued before it, '
                    'limit %d' % (name, used, cap))
    return None


# -- admission --------------------------------------------------------------

Facts = collections.namedtuple(
    'Facts', 'volume source dest attachments running up queued_bytes',
    defaults=(0,))
Facts.__doc__ = """What admission looks at, read by conductor.api: the
volume, its source and the destination backend rows, its attachments,
its running migration (or None), ``up(host, binary)``: whether that
service is heard from (None: never heard of), and the bytes of the
migrations queued to the destination or creating their volume there
(which its free capacity does not count yet)."""


def _destination_up(f):
    if not f.up(f.dest.host, S.BINARY_VOLUME):
        raise exception.BackendUnavailable(
            backend=f.dest.name,
            reason='its volume worker on host %s is down' % f.dest.host)


def _source_up(f):
    if f.source.id != f.dest.id and not f.up(f.source.host, S.BINARY_VOLUME):
        raise exception.BackendUnavailable(
            backend=f.source.name,
            reason='its volume worker on host %s is down' % f.source.host)


def _room(f):
    free = f.dest.free_capacity_bytes
    if f.source.id != f.dest.id and free is not None and \
            f.volume.size + f.queued_bytes > free:
        raise exception.InsufficientCapacity(
            backend=f.dest.name, size=f.volume.size,
            reason='%d bytes free' % free + (
                ', %d of them for the migrations queued to it'
                % f.queued_bytes if f.queued_bytes else ''))


def require_compute(up, host):
    """404 for a compute agent never heard of (``up`` None), 503 for one
    that is down (``up`` False); also for attaching."""
    name = '%s on host %s' % (S.BINARY_COMPUTE, host)
    if up is None:
        raise exception.ServiceNotFound(service=name)
    if not up:
        raise exception.ServiceUnavailable(
            service=name, reason='no heartbeat for more than %d seconds'
            % CONF.conductor.service_down_time)


def _compute_agents_up(f):
    for att in f.attachments:
        require_compute(f.up(att.host, S.BINARY_COMPUTE), att.host)


def _not_migrating(f):
    if f.running is not None:
        raise exception.VolumeMigrating(
            volume_id=f.volume.id, migration_id=f.running.id,
            migration_status=f.running.status)


def _another_backend(f):
    if f.volume.backend_id == f.dest.id:
        raise exception.SameBackend(volume_id=f.volume.id,
                                    backend=f.dest.name)


def serves_nbd(backend):
    """Whether a backend's worker exports its volumes to other hosts and
    reads theirs (``[nbd] enabled``: the ``nbd`` capability)."""
    return bool((backend.capabilities or {}).get('nbd'))


def _data_path(f):
    # The copy runs on the destination's volume worker: it reads a
    # source of its own host locally, one of another host over NBD,
    # exported by the source's worker (both with [nbd] enabled).
    if f.source.host != f.dest.host and not (
            serves_nbd(f.source) and serves_nbd(f.dest)):
        raise exception.NoDataPath(
            source=f.source.name, source_host=f.source.host,
            dest=f.dest.name, dest_host=f.dest.host)
    # The guest reaches the source until the switch and the destination
    # after it: on its own host, or exported to its host over NBD.
    for att in f.attachments:
        for backend in (f.source, f.dest):
            if backend.host != att.host and not serves_nbd(backend):
                raise exception.NoDataPath(
                    'The compute host %s of instance %s cannot reach '
                    'backend %s (host %s): its volume worker exports no '
                    'volumes over NBD; there is no data path between these '
                    'hosts.' % (att.host, att.instance_uuid, backend.name,
                                backend.host))


def _volume_status(f):
    if f.volume.status not in S.MIGRATABLE_VOLUME_STATUSES:
        raise exception.InvalidVolumeStatus(
            volume_id=f.volume.id, status=f.volume.status,
            action='migrate',
            expected=' or '.join(S.MIGRATABLE_VOLUME_STATUSES))


def _one_attachment(f):
    if len(f.attachments) > 1:
        raise exception.MultiAttachRefused(volume_id=f.volume.id,
                                           count=len(f.attachments))
    for att in f.attachments:
        if att.status != S.A_ATTACHED:
            raise exception.InvalidVolumeStatus(
                volume_id=f.volume.id,
                status='%s (attachment %s)' % (att.status, att.id),
                action='migrate', expected='attached or detached')


#: The rules, in the order they are checked (the first broken one is
#: the answer): each raises the 4xx that says what is wrong.
ADMISSION = (
    ('the destination backend is up', _destination_up),
    ('the source backend is up', _source_up),
    ('the destination has room', _room),
    ('the compute agents of its attachments are up', _compute_agents_up),
    ('the volume is not migrating', _not_migrating),
    ('the destination is another backend', _another_backend),
    ('the volume is available or in-use', _volume_status),
    ('at most one attachment, settled', _one_attachment),
    ('a data path from the source to the destination and its guest',
     _data_path),
)


def admit(facts):
    """Raise the error of the first rule ``facts`` break."""
    for _name, rule in ADMISSION:
        rule(facts)
