"""Migration flows of a running domain.

start     pre-create ``overlay`` (qcow2 backed by SRC), lock the
          persistent definition (``lock.py``), external disk-only
          snapshot of that one disk onto it: the guest now writes into
          the overlay, SRC is read-only.  The domain stays locked until
          the end of the fold-in or of the rollback.
complete  pre-create ``overlay2`` (qcow2 backed by DST), shallow
          blockCopy of the overlay onto it, wait READY, pivot: the
          domain no longer references SRC or the overlay.  Then,
          asynchronously: active blockCommit of overlay2 into DST, wait
          READY, pivot; the persistent definition names DST (unlocked);
          overlays deleted.
cancel    active blockCommit of the overlay back into SRC, pivot, the
          persistent definition names SRC again (unlocked); overlay
          deleted.

Every function first looks at the live XML, so that running it again
after a crash (of the agent or libvirtd) continues where it stopped.
"""

import copy
import time

from oslo_log import log as logging

from migrator_api.common import exception
from migrator_api.rpcapi import payloads
from migrator_compute.drivers import base
from migrator_compute.drivers.libvirt import blockjob
from migrator_compute.drivers.libvirt import guest
from migrator_compute.drivers.libvirt import host as host_mod
from migrator_compute.drivers.libvirt import images
from migrator_compute.drivers.libvirt import lock
from migrator_compute import journal as J

LOG = logging.getLogger(__name__)


def _same(a, b):
    return bool(a) and bool(b) and base.same_path(a, b)


class LiveFlows(object):

    def _saved_disk(self, record, kind, path):
        """The persistent disk element as saved at start, pointed at
        ``path`` (a raw volume)."""
        xml = record['migration'].get('persistent_disk')
        if not xml:
            return None
        disk = guest.parse(xml)
        return guest.set_source(disk, kind, path, 'raw')

    # -- start ------------------------------------------------------------

    def _live_start(self, record, kind, src):
        uuid, target = record['instance_uuid'], record['target']
        root = blockjob.live_root(self.host, uuid)
        disk = guest.find_disk(root, target) if root is not None else None
        if disk is None:
            raise exception.InstanceNotFreezable(
                instance=uuid, reason='disk %s is not attached to the '
                                      'running domain' % target)
        chain = guest.disk_chain(disk)
        if len(chain) != 1 or not _same(chain[0][1], src) or \
                chain[0][2] not in (None, 'raw'):
            raise exception.InstanceNotFreezable(
                instance=uuid,
                reason='disk %s is not the raw volume %s alone (chain %s)'
                       % (target, src, chain))
        pers = self._persistent_root(uuid)
        pdisk = guest.find_disk(pers, target) if pers is not None else None
        overlay = self._overlay_file(record, 'overlay')
        record['migration'] = {
            'mode': 'live', 'step': None, 'started_at': time.time(),
            'source': src, 'source_kind': kind, 'size': images.size_of(src),
            'overlay': overlay,
            'persistent_disk': guest.tostring(pdisk) if pdisk is not None
            else None}
        try:
            self._step(record, 'start:overlay')
            images.create_overlay(overlay, src, record['migration']['size'])
            self._step(record, 'start:lock')
            self._put_lock(record, self._stands_for(
                record, (payloads.FILE, overlay, 'qcow2'), (kind, src, 'raw')))
            self._step(record, 'start:snapshot')
            self._snapshot(record, root, overlay)
            top = blockjob.live_top(self.host, uuid, target)
            if not _same(top, overlay):
                raise exception.ComputeError(
                    host=self.conf.host,
                    reason='after the snapshot %s is on %s' % (target, top))
        except exception.MigratorException as e:
            self._abandon_start(record)
            if isinstance(e, exception.InstanceNotFreezable):
                raise
            raise exception.InstanceNotFreezable(instance=uuid,
                                                 reason=str(e))
        except Exception as e:
            self._abandon_start(record)
            raise exception.InstanceNotFreezable(instance=uuid,
                                                 reason=str(e))
        self._step(record, J.FROZEN)
        LOG.info('Attachment %s of %s frozen: writes go to %s',
                 record['attachment_id'], uuid, overlay)

    def _snapshot(self, record, root, overlay):
        uuid, target = record['instance_uuid'], record['target']
        t0 = time.monotonic()
        try:
            with self._dom_lock(uuid):
                self.host.domain(uuid).snapshotCreateXML(
                    guest.snapshot_xml(root, target, overlay),
                    blockjob.SNAPSHOT_FLAGS)
                took = time.monotonic() - t0
                # libvirt leaves a locked definition alone; should it
                # have rewritten it to name the overlay, lock it again.
                self._put_lock(record)
        except Exception as e:
            if not (host_mod.is_connection_error(e) and _same(
                    blockjob.live_top(self.host, uuid, target), overlay)):
                raise
            took = time.monotonic() - t0
            self._put_lock(record)
        self._timing(record, 'freeze', took)

    def _abandon_start(self, record):
        """Start failed: put everything back the way it was."""
        try:
            self._rollback(record)
        except Exception:
            LOG.exception('Rolling back the failed start of %s failed; '
                          'recovery will retry', record['attachment_id'])

    # -- complete, synchronous part --------------------------------------

    def _live_switch(self, record, dst):
        uuid, target = record['instance_uuid'], record['target']
        mig = record['migration']
        overlay2 = self._overlay_file(record, 'overlay2')
        self._step(record, 'complete:overlay2', overlay2=overlay2, **dst)
        t0 = time.monotonic()
        try:
            images.create_overlay(overlay2, dst['destination'], mig['size'])
            self._step(record, 'complete:copy')
            blockjob.start_copy(self.host, uuid, target, overlay2)
            blockjob.wait_ready(self.host, uuid, target, self.job_timeout,
                                blockjob.COPY)
            self._step(record, 'complete:pivot')
            with self._dom_lock(uuid):
                took = blockjob.pivot(self.host, uuid, target, overlay2,
                                      self.job_timeout)
        except exception.MigratorException:
            self._resolve_switch(record, pivot_failed=True)
            if record['migration']['step'] != J.SWITCHED:
                raise
            took = None
        except Exception as e:
            self._resolve_switch(record, pivot_failed=True)
            if record['migration']['step'] != J.SWITCHED:
                raise exception.ComputeError(host=self.conf.host,
                                             reason=str(e))
            took = None
        self._timing(record, 'switch', time.monotonic() - t0)
        if took is not None:
            self._timing(record, 'switch_pivot', took)
        self._after_live_switch(record)

    def _after_live_switch(self, record):
        uuid, target = record['instance_uuid'], record['target']
        mig = record['migration']
        root = blockjob.live_root(self.host, uuid)
        paths = guest.chain_paths(root, target) if root is not None else []
        if any(_same(p, mig['source']) for p in paths):
            raise exception.ComputeError(
                host=self.conf.host,
                reason='%s still references %s after the switch: %s'
                       % (target, mig['source'], paths))
        if mig['step'] != J.SWITCHED:
            self._step(record, J.SWITCHED, **self._switched_fields(record))
        self._put_lock(record)
        LOG.info('Attachment %s of %s switched to %s; %s is released',
                 record['attachment_id'], uuid, mig['destination'],
                 mig['source'])

    def _switched_fields(self, record):
        """Journal fields of SWITCHED: the lock now stands for overlay2
        backed by DST (what libvirt would have written into an unlocked
        definition at the pivot)."""
        mig = record['migration']
        fields = {'fold_image': mig['overlay2']}
        disk = self._stands_for(
            record, (payloads.FILE, mig['overlay2'], 'qcow2'),
            (mig['destination_kind'], mig['destination'], 'raw'))
        if disk is not None:
            fields['locked_disk'] = guest.tostring(disk)
        return fields

    def _live_resolve_switch(self, record):
        """A live complete stopped half-way: forward when the pivot
        happened, otherwise back to frozen."""
        uuid, target = record['instance_uuid'], record['target']
        mig = record['migration']
        if _same(blockjob.live_top(self.host, uuid, target),
                 mig.get('overlay2')):
            self._after_live_switch(record)
            return
        info = blockjob.job_info(self.host, uuid, target)
        if info:
            blockjob.abort(self.host, uuid, target)
        images.remove(mig.get('overlay2'))
        for key in ('overlay2', 'dst_attachment_id', 'dst_connection_info',
                    'destination', 'destination_kind'):
            mig.pop(key, None)
        self._step(record, J.FROZEN)

    # -- fold-in / rollback (asynchronous) -------------------------------

    def _commit_into(self, record, top, base_path, step_prefix):
        """Active-commit ``top`` into its backing ``base_path`` and pivot
        onto it; no-op when the disk is already on ``base_path``."""
        uuid, target = record['instance_uuid'], record['target']
        current = blockjob.live_top(self.host, uuid, target)
        if _same(current, base_path):
            return
        if not _same(current, top):
            raise exception.ComputeError(
                host=self.conf.host,
                reason='%s is on %s, expected %s or %s'
                       % (target, current, top, base_path))
        t0 = time.monotonic()
        info = blockjob.job_info(self.host, uuid, target)
        if info and info.get('type') != blockjob.ACTIVE_COMMIT:
            blockjob.abort(self.host, uuid, target)
            info = {}
        if not info:
            self._step(record, step_prefix + ':commit')
            blockjob.start_active_commit(self.host, uuid, target)
        blockjob.wait_ready(self.host, uuid, target, self.job_timeout,
                            blockjob.ACTIVE_COMMIT)
        self._step(record, step_prefix + ':pivot')
        try:
            with self._dom_lock(uuid):
                took = blockjob.pivot(self.host, uuid, target, base_path,
                                      self.job_timeout)
        except Exception:
            if not self._is_active(uuid):
                # Down under the pivot, which most likely did not
                # happen: the top has every write; commit it offline.
                self._step(record, step_prefix + ':cold-lock')
            raise
        self._timing(record, step_prefix, time.monotonic() - t0)
        self._timing(record, step_prefix + '_pivot', took)

    def _live_fold(self, record):
        mig = record['migration']
        uuid, target = record['instance_uuid'], record['target']
        if not mig['step'].startswith(('fold:config', 'fold:cleanup')):
            self._commit_into(record, mig['fold_image'], mig['destination'],
                              'fold')
            self._pivoted(record, mig['destination_kind'],
                          mig['destination'])
        chain = self._live_chain(uuid, target)
        if len(chain) != 1 or not _same(chain[0], mig['destination']):
            raise exception.ComputeError(
                host=self.conf.host,
                reason='after the fold-in %s is on %s' % (target, chain))
        self._finish_config(record, 'fold', mig['destination_kind'],
                            mig['destination'])

    def _live_rollback(self, record):
        mig = record['migration']
        uuid, target = record['instance_uuid'], record['target']
        if not mig['step'].startswith(('cancel:config', 'cancel:cleanup')):
            self._commit_into(record, mig['overlay'], mig['source'],
                              'cancel')
            self._pivoted(record, mig['source_kind'], mig['source'])
        chain = self._live_chain(uuid, target)
        if len(chain) != 1 or not _same(chain[0], mig['source']):
            raise exception.ComputeError(
                host=self.conf.host,
                reason='after the rollback %s is on %s' % (target, chain))
        self._finish_config(record, 'cancel', mig['source_kind'],
                            mig['source'])

    def _live_chain(self, uuid, target):
        root = blockjob.live_root(self.host, uuid)
        return guest.chain_paths(root, target) if root is not None else []

    def _pivoted(self, record, kind, path):
        """The disk is on ``path`` alone: so is the definition the lock
        stands for (should the domain go down before the end)."""
        if lock.lock_expected(record['migration']):
            disk = self._stands_for(record, (kind, path, 'raw'))
            if disk is not None:
                self._put_lock(record, disk)

    def _finish_config(self, record, prefix, kind, path):
        """The disk is on ``path`` alone: make the persistent definition
        say so (the lock goes; check it did), delete the overlays, close
        the journal entry."""
        mig = record['migration']
        uuid, target = record['instance_uuid'], record['target']
        self._step(record, prefix + ':config')
        disk = self._saved_disk(record, kind, path)
        if disk is not None:
            self._define_disk(record, copy.deepcopy(disk))
            pers = self._persistent_root(uuid)
            chain = guest.chain_paths(pers, target) if pers is not None \
                else []
            if pers is not None and (len(chain) != 1 or
                                     not _same(chain[0], path)):
                raise exception.ComputeError(
                    host=self.conf.host,
                    reason='the persistent definition of %s names %s, '
                           'not %s' % (target, chain, path))
        self._step(record, prefix + ':cleanup')
        for key in ('overlay', 'overlay2'):
            images.remove(mig.get(key))
        if prefix == 'fold':
            self._finish(record)
        else:
            record['migration'] = None
            record['last_migration'] = {'step': 'cancelled',
                                        'history': mig.get('history')}
            self.journal.save(record)
            LOG.info('Migration of attachment %s of %s cancelled; back on '
                     '%s', record['attachment_id'], uuid, path)
