"""The migration lock on a domain's persistent definition.

While one of its disks migrates, a domain must not start on anything
but what the migration leaves it on.  The persistent definition of the
disk then points at ``<overlay_path>/MIGRATION-IN-PROGRESS-<attachment
id>``, a path that never exists: libvirt refuses to start the domain
("Cannot access storage file ..."), whoever asks (nova, virsh,
autostart).  A running domain keeps running (defining a running
persistent domain changes only its next start), and the lock holds
whatever happens to it: destroyed, shut down from inside, reset,
libvirtd restarted.

stopped domain  locked at start, until the end of the fold-in (the
                disk is defined on DST) or of the rollback.
running domain  locked before the freeze (the snapshot), until the end
                of the fold-in or of the rollback.  A transient domain
                has no definition to lock, and cannot be started again.

The journal keeps ``locked_disk``, the definition the lock stands for:
what libvirt itself would have written there, and what the cold flow
(``cold.py``) reads to finish with qemu-img a migration whose domain
went down.  It is recorded before the definition changes, and right
after each pivot:

=========================  =============================================
stopped domain (offline)   the disk as it was
start:lock .. frozen       overlay backed by SRC (recorded before the
                           snapshot: committing an overlay that no write
                           reached is harmless)
switched                   overlay2 backed by DST
after the fold-in's pivot  DST alone
after the rollback's pivot SRC alone
=========================  =============================================

libvirt (9.0) leaves a locked definition alone through the snapshot
and the blockCopy and blockCommit pivots (an unlocked one it rewrites
to name the new top image).  So for a domain that went down around a
pivot, the journal says on which side of it the disk is (see
``recovery.py``).

libvirt's lifecycle events are a backstop only: when the definition of
a domain whose lock should hold changes (someone redefined it) or the
domain stops, the lock is put back if it is missing.
"""

import copy

import libvirt
from oslo_log import log as logging

from migrator_api.common import threads
from migrator_compute.drivers.libvirt import guest
from migrator_compute.journal import Mode
from migrator_compute.journal import Step

LOG = logging.getLogger(__name__)

#: Steps in which a migration does not hold its domain locked (yet, or
#: any more).
UNLOCKED_STEPS = frozenset({None, Step.START_OVERLAY, Step.START_LOCK,
                            Step.OFFLINE_LOCK, Step.FINISHED})
UNLOCKING_STEPS = frozenset({Step.FOLD_CONFIG, Step.FOLD_CLEANUP,
                             Step.CANCEL_CONFIG, Step.CANCEL_CLEANUP})
_EVENTS = (libvirt.VIR_DOMAIN_EVENT_DEFINED, libvirt.VIR_DOMAIN_EVENT_STOPPED,
           libvirt.VIR_DOMAIN_EVENT_STARTED)


class DomainStarted(Exception):
    """The domain started while we were locking it."""


def lock_expected(mig):
    """Whether the migration ``mig`` holds its domain locked now."""
    step = Step.of(mig)
    return step not in UNLOCKED_STEPS and step not in UNLOCKING_STEPS


class DomainLock(object):
    """The migration lock of one driver (``ctx``: its Context)."""

    def __init__(self, ctx):
        self.ctx = ctx

    @staticmethod
    def stands_for(record, *chain):
        """The disk definition saved at start, on ``chain`` (``(kind,
        path, format)``, top first); None when there was none."""
        xml = record['migration'].get('persistent_disk')
        if not xml:
            return None
        return guest.chain_disk(guest.parse(xml), chain)

    def put(self, record, stands_for=None):
        """Lock the persistent definition of the record's disk unless it
        is locked.  The journal learns first what the lock stands for:
        ``stands_for`` (an element) when given, else what it already
        says, else the definition found unlocked.  False when there is
        nothing to lock (no definition of the disk)."""
        mig = record['migration']
        uuid, target = record['instance_uuid'], record['target']
        with self.ctx.domain_lock(uuid):
            pers = self.ctx.persistent_root(uuid)
            current = guest.find_disk(pers, target) if pers is not None \
                else None
            if current is None:
                return False
            locked = guest.is_locked(pers, target)
            if stands_for is not None or not (locked or
                                              mig.get('locked_disk')):
                mig['locked_disk'] = guest.tostring(
                    current if stands_for is None else stands_for)
                self.ctx.journal.save(record)
            if not locked:
                self._define_locked(record, current)
        return True

    def _define_locked(self, record, current):
        self.ctx.define_disk(record, guest.lock_disk(
            copy.deepcopy(current), self.ctx.lock_file(record)))

    def lock_stopped(self, record):
        """Lock a domain found shut off.  Raises DomainStarted when it
        runs after all: a stopped domain's migration then gives the
        definition back, a live one's keeps it locked."""
        if not self.put(record):
            return False
        if self.ctx.is_active(record['instance_uuid']):
            if record['migration']['mode'] == Mode.OFFLINE:
                self.unlock(record)
            raise DomainStarted('%s started while being locked'
                                % record['instance_uuid'])
        return True

    def unlock(self, record):
        """Put back the definition the lock stands for."""
        mig = record['migration']
        pers = self.ctx.persistent_root(record['instance_uuid'])
        if pers is None or not guest.is_locked(pers, record['target']):
            return
        self.ctx.define_disk(record, guest.parse(mig['locked_disk']))

    def pivoted(self, record, kind, path):
        """A pivot left the disk on ``path`` alone: so is the definition
        the lock stands for (should the domain go down before the
        end)."""
        if lock_expected(record['migration']):
            disk = self.stands_for(record, (kind, path, 'raw'))
            if disk is not None:
                self.put(record, disk)

    def effective_chain(self, record):
        """The image chain the persistent definition really uses (the
        one the lock stands for while locked), or None without a
        definition."""
        pers = self.ctx.persistent_root(record['instance_uuid'])
        if pers is None:
            return None
        if guest.is_locked(pers, record['target']):
            locked = record['migration'].get('locked_disk')
            if not locked:
                return []
            return [p for _k, p, _f in guest.disk_chain(guest.parse(locked))]
        return guest.chain_paths(pers, record['target'])

    def is_locked(self, record):
        pers = self.ctx.persistent_root(record['instance_uuid'])
        return pers is not None and guest.is_locked(pers, record['target'])

    def keep(self, record):
        """A live migration whose lock should hold: lock again if the
        definition is not locked (a crash, or it was redefined)."""
        mig = record['migration']
        uuid, target = record['instance_uuid'], record['target']
        if mig['mode'] != Mode.LIVE or not lock_expected(mig):
            return
        pers = self.ctx.persistent_root(uuid)
        if pers is None or guest.find_disk(pers, target) is None or \
                guest.is_locked(pers, target):
            return
        LOG.warning('The definition of %s was not locked for the migration '
                    'of attachment %s (%s); locking it', uuid,
                    record['attachment_id'], mig['step'])
        self.put(record)

    # -- the backstop: lifecycle events -----------------------------------

    def on_lifecycle(self, instance_uuid, event, detail):
        """Called in libvirt's event loop thread: look in another."""
        if event in _EVENTS:
            threads.spawn('lock-check-%s' % instance_uuid[:8],
                          self._check, instance_uuid, event)

    def _check(self, instance_uuid, event):
        try:
            # The journal is read under the domain lock: a flow records
            # that it unlocks (``*:config``) before it takes that lock
            # to define the real disk.
            with self.ctx.domain_lock(instance_uuid):
                for record in self.ctx.journal.records():
                    mig = record.get('migration')
                    if record['instance_uuid'] != instance_uuid or \
                            not mig or not lock_expected(mig):
                        continue
                    if event == libvirt.VIR_DOMAIN_EVENT_STARTED:
                        LOG.error('%s started although locked for the '
                                  'migration of attachment %s (%s)',
                                  instance_uuid, record['attachment_id'],
                                  mig['step'])
                        continue
                    self._restore(record)
        except Exception:
            LOG.warning('Checking the migration lock of %s failed',
                        instance_uuid, exc_info=True)

    def _restore(self, record):
        """Lock again without touching the journal (a flow may be
        writing it); the journal's ``locked_disk`` stays the truth."""
        uuid, target = record['instance_uuid'], record['target']
        pers = self.ctx.persistent_root(uuid)
        current = guest.find_disk(pers, target) if pers is not None else None
        if current is None or guest.is_locked(pers, target) or \
                not record['migration'].get('locked_disk'):
            return
        LOG.warning('The definition of %s changed during the migration of '
                    'attachment %s; its lock is put back', uuid,
                    record['attachment_id'])
        self._define_locked(record, current)
