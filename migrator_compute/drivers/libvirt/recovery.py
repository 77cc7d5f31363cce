"""Dispatch between the live and stopped flows, and crash recovery.

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
                     the domain is no longer running).
finished             move the record to the destination attachment.
cancel:*             finish the rollback into the source.
===================  =================================================

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

from migrator_api.common import exception
from migrator_api.rpcapi import payloads
from migrator_compute.drivers import base
from migrator_compute.drivers.libvirt import guest
from migrator_compute.drivers.libvirt import images
from migrator_compute.drivers.libvirt import lock
from migrator_compute import journal as J

LOG = logging.getLogger(__name__)


def _phase(step):
    return (step or 'start:').split(':')[0]


class Recovery(object):

    def _fold(self, record):
        mig = record['migration']
        if mig['mode'] == 'offline' or mig['step'] == J.FINISHED:
            return self._finish(record)
        self._keep_locked(record)
        for _attempt in range(3):
            if self._is_active(record['instance_uuid']):
                try:
                    return self._live_fold(record)
                except Exception:
                    if self._is_active(record['instance_uuid']):
                        raise
                    LOG.warning('%s stopped during the fold-in of %s; '
                                'finishing it offline',
                                record['instance_uuid'],
                                record['attachment_id'])
            else:
                try:
                    return self._cold_fold(record)
                except lock.DomainStarted:
                    continue
        raise exception.ComputeError(
            host=self.conf.host,
            reason='the domain kept changing state during the fold-in of '
                   '%s' % record['attachment_id'])

    def _rollback(self, record):
        mig = record['migration']
        if mig['mode'] == 'offline':
            return self._offline_rollback(record)
        if _phase(mig['step']) == 'complete':
            self._resolve_switch(record)
        if mig['step'] == J.SWITCHED:
            raise exception.Conflict(
                reason='attachment %s was already switched to its '
                       'destination' % record['attachment_id'])
        self._keep_locked(record)
        for _attempt in range(3):
            if self._is_active(record['instance_uuid']):
                try:
                    return self._live_rollback(record)
                except Exception:
                    if self._is_active(record['instance_uuid']):
                        raise
            else:
                try:
                    return self._cold_rollback(record)
                except lock.DomainStarted:
                    continue
        raise exception.ComputeError(
            host=self.conf.host,
            reason='the domain kept changing state during the rollback of '
                   '%s' % record['attachment_id'])

    def _resolve_switch(self, record, pivot_failed=False):
        """Settle a complete that stopped half-way: SWITCHED when the
        domain already left the source, FROZEN otherwise.
        ``pivot_failed``: this agent saw its pivot (if it got that far)
        fail."""
        mig = record['migration']
        step = mig['step']
        if mig['mode'] == 'offline':
            return self._offline_define_dst(record)
        if step.startswith('complete:cold'):
            return self._cold_resolve_switch(record)
        if self._is_active(record['instance_uuid']):
            return self._live_resolve_switch(record)
        # Not running.  A pivot left unresolved counts as done (see
        # above); one this agent saw fail, or never tried, as not done.
        # (An unlocked definition, which libvirt rewrote at the pivot,
        # tells exactly.)
        chain = self._effective_chain(record)
        unresolved = step == 'complete:pivot' and not pivot_failed and \
            images.os.path.exists(mig.get('overlay2') or '/')
        if unresolved or (chain and base.same_path(
                chain[0], mig.get('overlay2') or '/')):
            self._step(record, J.SWITCHED, **self._switched_fields(record))
            return
        images.remove(mig.get('overlay2'))
        for key in ('overlay2', 'dst_attachment_id', 'dst_connection_info',
                    'destination', 'destination_kind'):
            mig.pop(key, None)
        self._step(record, J.FROZEN)

    # -- recovery -----------------------------------------------------------

    def recover(self):
        results = []
        for record in self.journal.records():
            aid = record['attachment_id']
            try:
                with self._att_lock(aid):
                    outcome = self._recover_one(record)
            except Exception as e:
                LOG.exception('Recovery of attachment %s failed', aid)
                outcome = 'failed: %s' % e
            LOG.info('Recovery of attachment %s: %s', aid, outcome)
            results.append((aid, outcome))
        return results

    def _recover_one(self, record):
        state = record.get('state')
        if state == 'attaching':
            return self._recover_attach(record)
        if state == 'detaching':
            self._detach(record)
            self.journal.delete(record['attachment_id'])
            return 'detached'
        mig = record.get('migration')
        if not mig:
            return 'attached'
        step = mig['step']
        phase = _phase(step)
        if phase == 'start' or step == J.OFFLINE_LOCK:
            self._rollback(record)
            return 'rolled back (start had not returned)'
        self._keep_locked(record)
        if step in (J.FROZEN, J.OFFLINE_LOCKED):
            self._check_frozen(record)
            return 'frozen'
        if phase == 'complete':
            self._resolve_switch(record)
            if mig['step'] != J.SWITCHED:
                return 'frozen (complete had not switched)'
            phase = 'switched'
        if phase in ('switched', 'fold', 'finished'):
            self._fold(record)
            return 'completed'
        if phase == 'cancel':
            self._rollback(record)
            return 'cancelled'
        raise exception.ComputeError(host=self.conf.host,
                                     reason='unknown step %s' % step)

    def _recover_attach(self, record):
        uuid, target = record['instance_uuid'], record['target']
        _kind, path = payloads.location_path(record['connection_info'])
        roots = [self._persistent_root(uuid)]
        if self._is_active(uuid):
            roots.append(guest.parse(
                guest.live_xml(self.host.domain(uuid))))
        for root in roots:
            if root is not None and base.same_path(
                    guest.top_path(root, target) or '/', path):
                record['state'] = 'attached'
                self.journal.save(record)
                return 'attached'
        self.journal.delete(record['attachment_id'])
        return 'attach rolled back'

    def _check_frozen(self, record):
        mig = record['migration']
        uuid, target = record['instance_uuid'], record['target']
        if mig['mode'] == 'offline':
            pers = self._persistent_root(uuid)
            if pers is not None and not guest.is_locked(pers, target):
                if self._is_active(uuid):
                    LOG.error('%s is running although locked for the '
                              'migration of %s', uuid,
                              record['attachment_id'])
                else:
                    self._lock_domain(record)
            return
        if self._is_active(uuid):
            top = guest.top_path(guest.parse(guest.live_xml(
                self.host.domain(uuid))), target)
            if not base.same_path(top or '/', mig['overlay']):
                LOG.error('Attachment %s should be frozen on %s but %s is '
                          'on %s', record['attachment_id'], mig['overlay'],
                          target, top)
