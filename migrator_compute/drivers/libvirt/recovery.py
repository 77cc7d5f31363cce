"""Crash recovery: what the journal shows was under way is finished or
rolled back, through the public steps of the flows (``flows.py``).

What recovery does with the step the journal names (the step that was
about to be taken when the agent stopped):

===================  =================================================
start:*, offline:lock  start never returned: roll back (the source is
                     the disk again, the overlay is deleted).
frozen, offline:locked  start returned: keep it, cancel or complete
                     will come.
complete:*           complete never returned: if the pivot onto the
                     destination happened (the live or persistent XML
                     names overlay2), go forward and fold in; else
                     abort the copy job, delete overlay2, back to
                     frozen (the caller may repeat complete or cancel).
switched, fold:*     finish the fold-in (live, or with qemu-img when
                     the domain is no longer running: ``ending.py``).
finished             move the record to the destination attachment.
cancel:*             finish the rollback into the source.
===================  =================================================

The bridges of nbd volumes (``bridges.py``) are settled first: those
the step wants run again (a reboot stopped them), the others stop;
then any bridge of this agent that no record names is stopped.

Whatever the step, a live migration between its freeze and the end of
its fold-in or rollback keeps its domain locked (``lock.py``): recovery
locks the definition again when it finds it unlocked.  For a domain
that is no longer running, the journal says which side of a pivot the
disk is on: the definition the lock stands for, recorded right after
each pivot.  When the agent sees a pivot fail with the domain down, the
pivot did not happen (the image it would have left has every write):
back to frozen, or on with an offline commit (``*:cold-lock``).  A
pivot the journal leaves unresolved (the agent died during it, the
guest may have run on for long after) counts as done: the READY job
kept its target in sync, so at most its last lag is lost, where the
other choice could drop, or commit stale data over, everything the
guest wrote after the pivot.
"""

from oslo_log import log as logging

from migrator_compute.drivers.libvirt import context
from migrator_compute.drivers.libvirt import guest
from migrator_compute import journal
from migrator_compute.journal import FROZEN_STEPS
from migrator_compute.journal import Mode
from migrator_compute.journal import Phase
from migrator_compute.journal import Step

LOG = logging.getLogger(__name__)


class Recovery(object):
    """``ctx``: the driver's Context, ``lock`` its DomainLock, ``flows``
    its Flows, ``attachments`` its Attachments."""

    def __init__(self, ctx, lock, flows, attachments):
        self.ctx, self.lock = ctx, lock
        self.flows, self.attachments = flows, attachments

    def recover(self):
        results = []
        for record in self.ctx.journal.records():
            aid = record['attachment_id']
            try:
                with self.ctx.attachment_lock(aid):
                    outcome = self._recover_one(record)
            except Exception as e:
                LOG.exception('Recovery of attachment %s failed', aid)
                outcome = 'failed: %s' % e
            LOG.info('Recovery of attachment %s: %s', aid, outcome)
            results.append((aid, outcome))
        try:
            self.ctx.bridges.sweep(self.ctx.journal.records())
        except Exception:
            LOG.exception('Stopping the NBD bridges no attachment uses '
                          'failed')
        return results

    def _recover_one(self, record):
        state = record.get('state')
        if state == 'attaching':
            return self.attachments.recover_attach(record)
        if state == 'detaching':
            self.attachments.finish_detach(record)
            return 'detached'
        mig = record.get('migration')
        # The bridges of its nbd volumes (a reboot stopped them, a crash
        # left one behind); a switch under way settles its own.
        self.ctx.bridges.settle(record, strict=False)
        if not mig:
            return 'attached'
        try:
            step = Step.of(mig)
        except journal.UnknownStep as e:
            raise self.ctx.error(str(e))
        if step is None or step.phase is Phase.START or \
                step is Step.OFFLINE_LOCK:
            self.flows.ending.rollback(record)
            return 'rolled back (start had not returned)'
        self.lock.keep(record)
        if step in FROZEN_STEPS:
            self._check_frozen(record)
            return 'frozen'
        if step.phase is Phase.COMPLETE:
            self.flows.resolve_switch(record)
            if Step.of(mig) is not Step.SWITCHED:
                return 'frozen (complete had not switched)'
            step = Step.SWITCHED
        if step.phase in (Phase.SWITCHED, Phase.FOLD, Phase.FINISHED):
            self.flows.ending.fold(record)
            return 'completed'
        if step.phase is Phase.CANCEL:
            self.flows.ending.rollback(record)
            return 'cancelled'
        raise self.ctx.error('unexpected step %s' % step)

    def _check_frozen(self, record):
        mig = record['migration']
        uuid, target = record['instance_uuid'], record['target']
        if mig['mode'] == Mode.OFFLINE:
            pers = self.ctx.persistent_root(uuid)
            if pers is not None and not guest.is_locked(pers, target):
                if self.ctx.is_active(uuid):
                    LOG.error('%s is running although locked for the '
                              'migration of %s', uuid,
                              record['attachment_id'])
                else:
                    self.lock.lock_stopped(record)
            return
        if not self.ctx.is_active(uuid):
            return
        top = self.ctx.live_top(record)
        if not context.same(top, mig['overlay']):
            LOG.error('Attachment %s should be frozen on %s but %s is on %s',
                      record['attachment_id'], mig['overlay'], target, top)
