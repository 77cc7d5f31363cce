"""The flow of a running domain: QEMU block jobs through libvirt.

start     check the overlay filesystem has room (``overlays.py``),
          pre-create ``overlay`` (qcow2 backed by SRC), lock the
          persistent definition (``lock.py``), external disk-only
          snapshot of that one disk onto it: the guest now writes into
          the overlay, SRC is read-only.  The domain stays locked until
          the end of the fold-in or of the rollback.
switch    (complete) connect to DST (the bridge of an nbd
          destination, ``bridges.py``), pre-create ``overlay2`` (qcow2
          backed by DST), shallow blockCopy of the overlay onto it, wait
          READY, pivot: the domain no longer references SRC or the
          overlay.
commit    (the fold-in's or the rollback's live part, ``ending.py``)
          active blockCommit of the top image into its backing image
          (overlay2 into DST, or the overlay back into SRC), wait READY,
          pivot.

Every step first looks at the live XML, so that running it again after
a crash (of the agent or libvirtd) continues where it stopped.
"""

import time

from oslo_log import log as logging

from migrator_api.common import exception
from migrator_api.rpcapi import payloads
from migrator_compute.drivers.libvirt import blockjob
from migrator_compute.drivers.libvirt import context
from migrator_compute.drivers.libvirt import guest
from migrator_compute.drivers.libvirt import host as host_mod
from migrator_compute.drivers.libvirt import images
from migrator_compute.drivers.libvirt import overlays
from migrator_compute.journal import Mode
from migrator_compute.journal import Step

LOG = logging.getLogger(__name__)
_same = context.same


class LiveFlow(context.Flow):

    # -- start ------------------------------------------------------------

    def start(self, record, kind, src):
        """Freeze the running domain's disk onto an overlay.  Raises
        InstanceNotFreezable; once ``record['migration']`` is set, the
        caller rolls back what was done."""
        uuid, target = record['instance_uuid'], record['target']
        root = self.ctx.live_root(uuid)
        self.ctx.source_disk(record, root, src, 'running domain',
                             raw_only=True)
        pers = self.ctx.persistent_root(uuid)
        pdisk = guest.find_disk(pers, target) if pers is not None else None
        overlay = self.ctx.overlay_file(record, 'overlay')
        size = images.volume_size(kind, src)
        overlays.check_room(uuid, self.ctx.overlay_path, size,
                            self.ctx.limits)
        record['migration'] = {
            'mode': Mode.LIVE, 'step': None, 'started_at': time.time(),
            'source': src, 'source_kind': kind, 'size': size,
            'overlay': overlay,
            'persistent_disk': guest.tostring(pdisk) if pdisk is not None
            else None}
        try:
            self._freeze(record, root, kind, src, overlay)
        except exception.InstanceNotFreezable:
            raise
        except Exception as e:
            raise exception.InstanceNotFreezable(instance=uuid,
                                                 reason=str(e))
        self.ctx.step(record, Step.FROZEN)
        LOG.info('Attachment %s of %s frozen: writes go to %s',
                 record['attachment_id'], uuid, overlay)

    def _freeze(self, record, root, kind, src, overlay):
        self.ctx.step(record, Step.START_OVERLAY)
        images.create_overlay(overlay, kind, src, record['migration']['size'])
        self.ctx.step(record, Step.START_LOCK)
        self.lock.put(record, self.lock.stands_for(
            record, (payloads.FILE, overlay, 'qcow2'), (kind, src, 'raw')))
        self.ctx.step(record, Step.START_SNAPSHOT)
        self._snapshot(record, root, overlay)
        top = self.ctx.live_top(record)
        if not _same(top, overlay):
            raise self.ctx.error('after the snapshot %s is on %s'
                                 % (record['target'], top))

    def _snapshot(self, record, root, overlay):
        uuid, target = record['instance_uuid'], record['target']
        t0 = time.monotonic()
        try:
            with self.ctx.domain_lock(uuid):
                self.ctx.host.domain(uuid).snapshotCreateXML(
                    guest.snapshot_xml(root, target, overlay),
                    blockjob.SNAPSHOT_FLAGS)
                took = time.monotonic() - t0
                # libvirt leaves a locked definition alone; should it
                # have rewritten it to name the overlay, lock it again.
                self.lock.put(record)
        except Exception as e:
            if not (host_mod.is_connection_error(e) and
                    _same(self.ctx.live_top(record), overlay)):
                raise
            took = time.monotonic() - t0
            self.lock.put(record)
        self.ctx.timing(record, 'freeze', took)

    # -- switch (complete, synchronous) ---------------------------------

    def switch(self, record, dst):
        """Move the running disk onto overlay2 backed by DST; when this
        returns, the domain no longer references SRC."""
        uuid, target = record['instance_uuid'], record['target']
        mig = record['migration']
        overlay2 = self.ctx.overlay_file(record, 'overlay2')
        self.ctx.step(record, Step.COMPLETE_OVERLAY2, overlay2=overlay2,
                      **dst)
        t0 = time.monotonic()
        self.ctx.connect_destination(record)
        images.create_overlay(overlay2, dst['destination_kind'],
                              dst['destination'], mig['size'])
        self.ctx.step(record, Step.COMPLETE_COPY)
        blockjob.start_copy(self.ctx.host, uuid, target, overlay2)
        blockjob.wait_ready(self.ctx.host, uuid, target,
                            self.ctx.job_timeout, blockjob.COPY)
        self.ctx.step(record, Step.COMPLETE_PIVOT)
        with self.ctx.domain_lock(uuid):
            took = blockjob.pivot(self.ctx.host, uuid, target, overlay2,
                                  self.ctx.job_timeout)
        self.ctx.timing(record, 'switch', time.monotonic() - t0)
        self.ctx.timing(record, 'switch_pivot', took)
        self._switched(record)

    def _switched(self, record):
        mig = record['migration']
        paths = self.ctx.live_chain(record)
        if any(_same(p, mig['source']) for p in paths):
            raise self.ctx.error('%s still references %s after the switch: '
                                 '%s' % (record['target'], mig['source'],
                                         paths))
        if Step.of(mig) is not Step.SWITCHED:
            self.ctx.step(record, Step.SWITCHED,
                          **self._switched_fields(record))
        self.lock.put(record)
        LOG.info('Attachment %s of %s switched to %s; %s is released',
                 record['attachment_id'], record['instance_uuid'],
                 mig['destination'], mig['source'])

    def _switched_fields(self, record):
        """Journal fields of SWITCHED: the lock now stands for overlay2
        backed by DST (what libvirt would have written into an unlocked
        definition at the pivot)."""
        mig = record['migration']
        fields = {'fold_image': mig['overlay2']}
        disk = self.lock.stands_for(
            record, (payloads.FILE, mig['overlay2'], 'qcow2'),
            (mig['destination_kind'], mig['destination'], 'raw'))
        if disk is not None:
            fields['locked_disk'] = guest.tostring(disk)
        return fields

    def resolve_switch(self, record, pivot_failed=False):
        """A live switch stopped half-way: True (and SWITCHED) when its
        pivot happened, else False, the copy job gone.

        Running domain: the live XML tells.  Not running: a pivot left
        unresolved (the agent died during it) counts as done (see
        ``recovery.py``), one this agent saw fail (``pivot_failed``) or
        never tried as not done; an unlocked definition, which libvirt
        rewrote at the pivot, tells exactly."""
        uuid, target = record['instance_uuid'], record['target']
        mig = record['migration']
        overlay2 = mig.get('overlay2')
        if self.ctx.is_active(uuid):
            if _same(self.ctx.live_top(record), overlay2):
                self._switched(record)
                return True
            if blockjob.job_info(self.ctx.host, uuid, target):
                blockjob.abort(self.ctx.host, uuid, target)
            return False
        chain = self.lock.effective_chain(record)
        unresolved = Step.of(mig) is Step.COMPLETE_PIVOT and \
            not pivot_failed and images.exists(overlay2)
        if unresolved or (chain and _same(chain[0], overlay2)):
            self.ctx.step(record, Step.SWITCHED,
                          **self._switched_fields(record))
            return True
        return False

    # -- commit (the live part of a fold-in or a rollback) ---------------

    def commit(self, record, ending):
        """Active-commit the ending's top image into its base and pivot
        onto it; then the running disk is on the base alone."""
        mig = record['migration']
        kind, path = ending.base(mig)
        if Step.of(mig) not in ending.configuring:
            self._commit_into(record, ending.top(mig), path, ending)
            self.lock.pivoted(record, kind, path)
        chain = self.ctx.live_chain(record)
        if not context.alone_on(chain, path):
            raise self.ctx.error('after the %s %s is on %s'
                                 % (ending.name, record['target'], chain))

    def _commit_into(self, record, top, base_path, ending):
        uuid, target = record['instance_uuid'], record['target']
        current = self.ctx.live_top(record)
        if _same(current, base_path):
            return
        if not _same(current, top):
            raise self.ctx.error('%s is on %s, expected %s or %s'
                                 % (target, current, top, base_path))
        t0 = time.monotonic()
        info = blockjob.job_info(self.ctx.host, uuid, target)
        if info and info.get('type') != blockjob.ACTIVE_COMMIT:
            blockjob.abort(self.ctx.host, uuid, target)
            info = {}
        if not info:
            self.ctx.step(record, ending.commit)
            blockjob.start_active_commit(self.ctx.host, uuid, target)
        blockjob.wait_ready(self.ctx.host, uuid, target,
                            self.ctx.job_timeout, blockjob.ACTIVE_COMMIT)
        self.ctx.step(record, ending.pivot)
        try:
            with self.ctx.domain_lock(uuid):
                took = blockjob.pivot(self.ctx.host, uuid, target,
                                      base_path, self.ctx.job_timeout)
        except Exception:
            if not self.ctx.is_active(uuid):
                # Down under the pivot, which most likely did not
                # happen: the top has every write; commit it offline.
                self.ctx.step(record, ending.cold_lock)
            raise
        self.ctx.timing(record, ending.timing, time.monotonic() - t0)
        self.ctx.timing(record, ending.timing + '_pivot', took)
