"""How a migration ends: the fold-in after complete, the rollback after
cancel (or a start that failed).  One routine serves every guest:

1. commit (a live migration only: the stopped one has no overlay): the
   top image goes into its base -- the fold image (overlay2, or the
   overlay rebased onto DST) into DST, or the overlay back into SRC --
   with a live active commit and pivot while the domain runs
   (``live.py``), with qemu-img under the lock while it does not
   (``cold.py``).  A domain that stops or starts meanwhile is retried
   the other way; three tries.
2. configure: the persistent definition names the base alone (which
   removes the lock); the overlays are deleted.
3. close: the record moves to the destination attachment (fold-in), or
   the migration is forgotten (rollback).

First of all the bridges of nbd volumes (``bridges.py``) are made to
match the step: the base's runs (the commit writes into it), the other
side's does not.
"""

import copy
import dataclasses

from oslo_log import log as logging

from migrator_api.common import exception
from migrator_compute.drivers.libvirt import context
from migrator_compute.drivers.libvirt import guest
from migrator_compute.drivers.libvirt import images
from migrator_compute.drivers.libvirt import lock as lock_mod
from migrator_compute.journal import Mode
from migrator_compute.journal import Phase
from migrator_compute.journal import Step

LOG = logging.getLogger(__name__)

_TRIES = 3


@dataclasses.dataclass(frozen=True)
class Ending(object):
    """What tells a fold-in from a rollback: its steps and images."""
    name: str
    timing: str             # the key of its duration in the timings
    commit: Step
    pivot: Step
    cold_lock: Step
    cold_commit: Step
    config: Step
    cleanup: Step
    top_key: str            # the record's image committed into the base
    base_key: str           # the record's base path (and its kind)
    #: A rollback may run before start made its overlay.
    top_may_be_missing: bool

    @property
    def configuring(self):
        return frozenset({self.config, self.cleanup})

    def top(self, mig):
        return mig[self.top_key]

    def base(self, mig):
        """``(kind, path)`` of the base image."""
        return mig[self.base_key + '_kind'], mig[self.base_key]


FOLD = Ending('fold-in', 'fold', Step.FOLD_COMMIT, Step.FOLD_PIVOT,
              Step.FOLD_COLD_LOCK, Step.FOLD_COLD_COMMIT, Step.FOLD_CONFIG,
              Step.FOLD_CLEANUP, 'fold_image', 'destination', False)
ROLLBACK = Ending('rollback', 'cancel', Step.CANCEL_COMMIT,
                  Step.CANCEL_PIVOT, Step.CANCEL_COLD_LOCK,
                  Step.CANCEL_COLD_COMMIT, Step.CANCEL_CONFIG,
                  Step.CANCEL_CLEANUP, 'overlay', 'source', True)


class Endings(object):
    """The fold-in and the rollback of one driver's migrations."""

    def __init__(self, ctx, lock, live, cold):
        self.ctx, self.lock, self.live, self.cold = ctx, lock, live, cold

    def fold(self, record):
        """After the switch: DST becomes the disk; the record moves to
        the destination attachment."""
        if Step.of(record['migration']) is not Step.FINISHED:
            self._end(record, FOLD)
        self.finish(record)

    def rollback(self, record):
        """Before any switch: SRC becomes the disk again."""
        step = Step.of(record['migration'])
        if step is not None and step.phase in (
                Phase.COMPLETE, Phase.SWITCHED, Phase.FOLD, Phase.FINISHED):
            # The callers settle a half-done complete first.
            raise exception.Conflict(
                reason='attachment %s was already switched to its '
                       'destination (%s)' % (record['attachment_id'], step))
        self._end(record, ROLLBACK)
        mig = record['migration']
        record['migration'] = None
        record['last_migration'] = {'step': Step.CANCELLED,
                                    'history': mig.get('history')}
        if mig.get('gave_up'):
            # The agent gave it up (overlays.py): the end is reported.
            record['last_migration']['gave_up'] = mig['gave_up']
        self.ctx.journal.save(record)
        LOG.info('Migration of attachment %s of %s cancelled; back on %s',
                 record['attachment_id'], record['instance_uuid'],
                 mig['source'])

    def _end(self, record, ending):
        # The base (an nbd volume) is reached through its bridge; the
        # other side's is no longer used.
        self.ctx.bridges.settle(record)
        if record['migration']['mode'] == Mode.LIVE:
            self.lock.keep(record)
            self._commit(record, ending)
        self._configure(record, ending)

    def _commit(self, record, ending):
        """The top image into its base, live or cold, while the domain
        keeps changing state."""
        uuid = record['instance_uuid']
        for _attempt in range(_TRIES):
            if self.ctx.is_active(uuid):
                try:
                    return self.live.commit(record, ending)
                except Exception:
                    if self.ctx.is_active(uuid):
                        raise
                    LOG.warning('%s stopped during the %s of %s; finishing '
                                'it offline', uuid, ending.name,
                                record['attachment_id'])
            else:
                try:
                    return self.cold.commit(record, ending)
                except lock_mod.DomainStarted:
                    continue
        raise self.ctx.error('the domain kept changing state during the %s '
                             'of %s' % (ending.name, record['attachment_id']))

    def _configure(self, record, ending):
        """The disk is on the base alone: make the persistent definition
        say so (the lock goes; check it did), delete the overlays."""
        mig = record['migration']
        uuid, target = record['instance_uuid'], record['target']
        kind, path = ending.base(mig)
        self.ctx.step(record, ending.config)
        disk = self.ctx.saved_disk(record, kind, path)
        if disk is not None:
            self.ctx.define_disk(record, copy.deepcopy(disk))
            pers = self.ctx.persistent_root(uuid)
            chain = guest.chain_paths(pers, target) if pers is not None \
                else []
            if pers is not None and not context.alone_on(chain, path):
                raise self.ctx.error('the persistent definition of %s names '
                                     '%s, not %s' % (target, chain, path))
        self.ctx.step(record, ending.cleanup)
        for key in ('overlay', 'overlay2'):
            images.remove(mig.get(key))

    def finish(self, record):
        """The migration is over: the disk now belongs to the
        destination attachment."""
        mig = record['migration']
        if Step.of(mig) is not Step.FINISHED:
            self.ctx.step(record, Step.FINISHED)
        extra = {'bridge': mig['dst_bridge']} if mig.get('dst_bridge') \
            else {}
        dst = self.ctx.journal.new_record(
            mig['dst_attachment_id'], record['instance_uuid'],
            record['target'], mig['dst_connection_info'], state='attached',
            migrated_from=record['attachment_id'],
            migration_history=mig.get('history'), **extra)
        self.ctx.journal.save(dst)
        self.ctx.journal.delete(record['attachment_id'])
        LOG.info('Attachment %s of %s replaced by %s (%s)',
                 record['attachment_id'], record['instance_uuid'],
                 mig['dst_attachment_id'], mig['destination'])
