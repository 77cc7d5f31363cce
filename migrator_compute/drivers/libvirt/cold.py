"""The flow of a live migration whose domain stopped (or vanished)
before it finished: the overlay chain is finished with qemu-img while
the domain stays locked (``lock.py``).

switch    (complete) ``qemu-img rebase -u`` of the overlay onto DST
          (identical to SRC as of the freeze; an nbd DST through its
          bridge, ``bridges.py``, started first).
commit    (the fold-in's or the rollback's cold part, ``ending.py``)
          ``qemu-img commit`` of the top image into its backing image
          (the overlay into DST, or back into SRC), unless the
          definition the lock stands for says it happened.

QEMU's image locking also keeps a domain that was somehow started off
the images qemu-img holds.
"""

from oslo_log import log as logging

from migrator_compute.drivers.libvirt import context
from migrator_compute.drivers.libvirt import images
from migrator_compute.journal import Step

LOG = logging.getLogger(__name__)
_same = context.same


class ColdFlow(context.Flow):

    def switch(self, record, dst):
        mig = record['migration']
        self.ctx.step(record, Step.COMPLETE_COLD_LOCK,
                      fold_image=mig['overlay'], **dst)
        self.ctx.connect_destination(record)
        self.lock.lock_stopped(record)
        self.ctx.step(record, Step.COMPLETE_COLD_REBASE)
        images.rebase_unsafe(mig['overlay'], mig['destination_kind'],
                             mig['destination'])
        self.ctx.step(record, Step.SWITCHED)

    def resolve_switch(self, record, pivot_failed=False):
        """A cold switch stopped half-way: True (and SWITCHED) when the
        overlay is backed by DST, else False, the overlay backed by SRC
        again (the domain stays locked)."""
        mig = record['migration']
        overlay = mig['overlay']
        if Step.of(mig) is Step.COMPLETE_COLD_REBASE and \
                _same(images.backing_of(overlay), mig.get('destination')):
            self.ctx.step(record, Step.SWITCHED)
            return True
        if not _same(images.backing_of(overlay), mig['source']):
            images.rebase_unsafe(overlay, mig['source_kind'], mig['source'])
        return False

    def commit(self, record, ending):
        """Lock, then ``qemu-img commit`` the ending's top image into its
        base, unless that happened already."""
        mig = record['migration']
        if Step.of(mig) in ending.configuring or \
                not self._needs_commit(record, ending):
            return
        image, base = ending.top(mig), ending.base(mig)[1]
        if not images.exists(image):
            raise self.ctx.error('overlay %s is missing' % image)
        actual = images.backing_of(image)
        if not _same(actual, base):
            raise self.ctx.error('%s is backed by %s, not %s'
                                 % (image, actual, base))
        self.ctx.step(record, ending.cold_lock)
        self.lock.lock_stopped(record)
        self.ctx.step(record, ending.cold_commit)
        images.commit(image)

    def _needs_commit(self, record, ending):
        """A pivot the journal leaves unresolved (the agent died during
        it) counts as done: the base may hold writes newer than the top
        (see ``recovery.py``).  Otherwise the definition the lock stands
        for tells: the disk is on the base alone, or not yet; without a
        definition, the top image does (a rollback's may never have been
        made)."""
        mig = record['migration']
        if Step.of(mig) is ending.pivot:
            return False
        chain = self.lock.effective_chain(record)
        if chain is None:
            return images.exists(ending.top(mig)) or \
                not ending.top_may_be_missing
        return not context.alone_on(chain, ending.base(mig)[1])
