"""Migration flows of a domain that is not running.

Both keep the domain locked (see ``lock.py``): its persistent
definition names a path that never exists, so libvirt refuses to start
it until cancel or complete puts a real source back.

offline   (domain shut off at start)  start = lock; complete = the
          disk definition with DST as its source; cancel = the
          original definition back.
cold      (a live migration whose domain stopped or vanished before it
          finished)  the overlay chain is finished with qemu-img while
          the domain stays locked: rollback = ``qemu-img commit`` of the
          overlay into SRC; complete = ``qemu-img rebase -u`` of the
          overlay onto DST (identical to SRC), then ``qemu-img commit``
          into DST.  QEMU's image locking also keeps a domain that was
          somehow started off images qemu-img holds.
"""

from oslo_log import log as logging

from migrator_api.common import exception
from migrator_compute.drivers import base
from migrator_compute.drivers.libvirt import guest
from migrator_compute.drivers.libvirt import images
from migrator_compute.drivers.libvirt import lock
from migrator_compute import journal as J

LOG = logging.getLogger(__name__)


def _same(a, b):
    return bool(a) and bool(b) and base.same_path(a, b)


class StoppedFlows(object):

    # -- offline (the domain was shut off at start) -----------------------

    def _offline_start(self, record, kind, src):
        uuid, target = record['instance_uuid'], record['target']
        pers = self._persistent_root(uuid)
        disk = guest.find_disk(pers, target) if pers is not None else None
        if disk is None:
            raise exception.InstanceNotFreezable(
                instance=uuid, reason='disk %s is not in the domain '
                                      'definition' % target)
        chain = guest.disk_chain(disk)
        if len(chain) != 1 or not _same(chain[0][1], src):
            raise exception.InstanceNotFreezable(
                instance=uuid, reason='disk %s is not on %s alone (%s)'
                                      % (target, src, chain))
        record['migration'] = {
            'mode': 'offline', 'step': None, 'source': src,
            'source_kind': kind, 'persistent_disk': guest.tostring(disk)}
        self._step(record, J.OFFLINE_LOCK)
        try:
            self._lock_domain(record)
        except lock.DomainStarted:
            LOG.info('%s started while being locked; freezing it live',
                     uuid)
            record['migration'] = None
            self.journal.save(record)
            return self._live_start(record, kind, src)
        self._step(record, J.OFFLINE_LOCKED)
        LOG.info('Stopped domain %s locked for the migration of %s',
                 uuid, record['attachment_id'])

    def _offline_switch(self, record, dst):
        self._step(record, 'complete:offline', **dst)
        self._offline_define_dst(record)

    def _offline_define_dst(self, record):
        mig = record['migration']
        disk = self._saved_disk(record, mig['destination_kind'],
                                mig['destination'])
        self._define_disk(record, disk)
        chain = self._effective_chain(record)
        if chain is not None and (len(chain) != 1 or
                                  not _same(chain[0], mig['destination'])):
            raise exception.ComputeError(
                host=self.conf.host,
                reason='the definition of %s names %s, not %s'
                       % (record['target'], chain, mig['destination']))
        self._step(record, J.SWITCHED)

    def _offline_rollback(self, record):
        mig = record['migration']
        self._step(record, 'cancel:config')
        self._define_disk(record, guest.parse(mig['persistent_disk']))
        record['migration'] = None
        record['last_migration'] = {'step': 'cancelled',
                                    'history': mig.get('history')}
        self.journal.save(record)

    # -- cold (live migration, domain no longer running) ------------------

    def _cold_switch(self, record, dst):
        mig = record['migration']
        self._step(record, 'complete:cold-lock', fold_image=mig['overlay'],
                   **dst)
        self._lock_domain(record)
        self._step(record, 'complete:cold-rebase')
        images.rebase_unsafe(mig['overlay'], mig['destination'])
        self._step(record, J.SWITCHED)

    def _cold_resolve_switch(self, record):
        mig = record['migration']
        overlay = mig['overlay']
        if mig['step'] == 'complete:cold-rebase' and \
                _same(images.backing_of(overlay), mig.get('destination')):
            self._step(record, J.SWITCHED)
            return
        if mig['step'].startswith('complete:cold') and \
                not _same(images.backing_of(overlay), mig['source']):
            # Back to frozen: the domain stays locked.
            images.rebase_unsafe(overlay, mig['source'])
        for key in ('overlay2', 'dst_attachment_id', 'dst_connection_info',
                    'destination', 'destination_kind', 'fold_image'):
            if key == 'overlay2':
                images.remove(mig.get(key))
            mig.pop(key, None)
        self._step(record, J.FROZEN)

    def _cold_commit(self, record, image, backing, prefix):
        """Lock, then ``qemu-img commit`` ``image`` into ``backing``."""
        if not images.os.path.exists(image):
            raise exception.ComputeError(
                host=self.conf.host, reason='overlay %s is missing' % image)
        actual = images.backing_of(image)
        if not _same(actual, backing):
            raise exception.ComputeError(
                host=self.conf.host,
                reason='%s is backed by %s, not %s' % (image, actual,
                                                       backing))
        self._step(record, prefix + ':cold-lock')
        self._lock_domain(record)
        self._step(record, prefix + ':cold-commit')
        images.commit(image)

    def _cold_fold(self, record):
        mig = record['migration']
        step = mig['step']
        if not step.startswith(('fold:config', 'fold:cleanup')):
            # A pivot left unresolved (``fold:pivot``: the agent died
            # during it) counts as done: DST may hold writes newer than
            # the overlay (see recovery.py).  Otherwise commit unless the
            # definition (what the lock stands for) is on DST alone.
            chain = self._effective_chain(record) or []
            need = step != 'fold:pivot' and not (
                len(chain) == 1 and _same(chain[0], mig['destination']))
            if need:
                self._cold_commit(record, mig['fold_image'],
                                  mig['destination'], 'fold')
        self._finish_config(record, 'fold', mig['destination_kind'],
                            mig['destination'])

    def _cold_rollback(self, record):
        mig = record['migration']
        step = mig['step']
        if not step.startswith(('cancel:config', 'cancel:cleanup')):
            chain = self._effective_chain(record)
            if step == 'cancel:pivot':      # unresolved: done (see above)
                need = False
            elif chain is None:
                need = step != 'start:overlay' and \
                    images.os.path.exists(mig['overlay'])
            else:
                need = bool(chain) and _same(chain[0], mig['overlay'])
            if need:
                self._cold_commit(record, mig['overlay'], mig['source'],
                                  'cancel')
        self._finish_config(record, 'cancel', mig['source_kind'],
                            mig['source'])
