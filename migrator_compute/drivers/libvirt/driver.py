"""The libvirt compute drivers: the ComputeDriver interface (see
``drivers/base.py``) over the flows of this package.

Each call checks its arguments against the journal under the
attachment's lock and hands the migration to ``flows.py``, which picks
the flow (``live.py``, ``offline.py``, ``cold.py``) and settles a step
that failed half-way; the asynchronous ends (``ending.py``) run in a
background thread (``workers.py``) and report through ``on_done``.

``[compute] driver = libvirt``          live and offline migrations.
``[compute] driver = libvirt-offline``  a host without live block jobs:
                                        shut-off instances only.
"""

import time

from oslo_log import log as logging

from migrator_api.common import exception
from migrator_api.rpcapi import payloads
from migrator_compute.drivers import base
from migrator_compute.drivers.libvirt import attach
from migrator_compute.drivers.libvirt import bridges
from migrator_compute.drivers.libvirt import context
from migrator_compute.drivers.libvirt import flows as flows_mod
from migrator_compute.drivers.libvirt import images
from migrator_compute.drivers.libvirt import lock as lock_mod
from migrator_compute.drivers.libvirt import overlays
from migrator_compute.drivers.libvirt import recovery as recovery_mod
from migrator_compute.drivers.libvirt import workers as workers_mod
from migrator_compute.journal import FROZEN_STEPS
from migrator_compute.journal import Mode
from migrator_compute.journal import Phase
from migrator_compute.journal import Step

LOG = logging.getLogger(__name__)

#: Phases of a migration that complete may take on (or repeat).
_COMPLETING = (Phase.COMPLETE, Phase.SWITCHED, Phase.FOLD, Phase.FINISHED)
#: Phases in which a migration can no longer be cancelled.
_SWITCHED = (Phase.SWITCHED, Phase.FOLD, Phase.FINISHED)


class LibvirtDriver(base.ComputeDriver):
    supports_live_migration = True

    def __init__(self, conf, host=None):
        self.conf = conf
        self.ctx = context.Context(conf, host)
        self.host, self.journal = self.ctx.host, self.ctx.journal
        self.overlay_path, self.timings = (self.ctx.overlay_path,
                                           self.ctx.timings)
        self.lock = lock_mod.DomainLock(self.ctx)
        self.flows = flows_mod.Flows(self.ctx, self.lock,
                                     self.supports_live_migration)
        self.attachments = attach.Attachments(self.ctx)
        self.recovery = recovery_mod.Recovery(self.ctx, self.lock,
                                              self.flows, self.attachments)
        self.workers = workers_mod.Workers(self.ctx)
        self.watch = overlays.Watch(self.ctx, self._give_up)
        self.host.add_lifecycle_listener(self.lock.on_lifecycle)

    # -- instances and attachments ---------------------------------------

    def get_instance(self, instance_uuid):
        info = self.host.domain_info(instance_uuid)
        if info is None:
            raise exception.InstanceNotFound(instance=instance_uuid,
                                             host=self.conf.host)
        return info

    def attach_volume(self, instance_uuid, attachment_id, connection_info):
        return self.attachments.attach_volume(instance_uuid, attachment_id,
                                              connection_info)

    def detach_volume(self, instance_uuid, attachment_id):
        self.attachments.detach_volume(instance_uuid, attachment_id)

    def recover(self):
        try:
            return self.recovery.recover()
        finally:
            # Frozen overlays are watched again, given-up ends reported.
            self.watch.start()

    def set_overlay_reporter(self, reporter):
        self.watch.reporter = reporter

    def is_busy(self, instance_uuid):
        if self.workers.busy(instance_uuid):
            return True
        return any(r['instance_uuid'] == instance_uuid and
                   (r.get('migration') or r.get('state') != 'attached')
                   for r in self.journal.records())

    def wait_idle(self, instance_uuid, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.is_busy(instance_uuid):
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def migration_state(self, attachment_id):
        record = self.journal.load(attachment_id)
        return Step.of(record and record.get('migration'))

    def cleanup(self):
        self.watch.stop()
        self.host.close()

    # -- the migration contract ------------------------------------------

    def migration_start(self, instance_uuid, attachment_id,
                        migration_id=None):
        with self.ctx.attachment_lock(attachment_id):
            record = self.ctx.record(instance_uuid, attachment_id)
            mig = record.get('migration')
            if mig:
                if Step.of(mig) not in FROZEN_STEPS:
                    raise exception.Conflict(
                        reason='attachment %s is already migrating (%s)'
                               % (attachment_id, mig['step']))
            else:
                kind, path = self.ctx.bridges.local(
                    attachment_id, record['connection_info'])
                self.attachments.check_not_shared(record, path)
                self.flows.start(record, kind, path)
                mig = record['migration']
            if migration_id and mig.get('migration_id') != migration_id:
                # Whom the overlay watch reports the overlay's size to.
                mig['migration_id'] = migration_id
                self.journal.save(record)
            if mig['mode'] == Mode.LIVE:
                self.watch.start()
            return {'mode': str(mig['mode'])}

    def _give_up(self, record, reason, overlay_bytes):
        """The overlay watch found the frozen overlay of ``record`` past
        its cap: roll the guest back onto its source (``overlays.py``)."""
        aid = record['attachment_id']
        gave_up = {'reason': reason, 'overlay_bytes': overlay_bytes,
                   'migration_id': record['migration'].get('migration_id')}
        acted = []

        def give_up():
            rec = self.journal.load(aid)
            if rec is None or Step.of(rec.get('migration')) is not \
                    Step.FROZEN:
                return          # a cancel or complete came first
            acted.append(True)
            self.ctx.step(rec, Step.CANCEL_REQUESTED, gave_up=gave_up)
            self.flows.ending.rollback(rec)

        def on_done(error):
            self.watch.ended(aid)
            if error is not None and acted and gave_up['migration_id']:
                # Still on the overlay: the conductor rolls back (its
                # cancel retries the rollback); the end is reported
                # again once the guest is back on its source.
                self.watch.report(gave_up['migration_id'], overlay_bytes,
                                  '%s; rolling the guest back onto its '
                                  'source failed: %s' % (
                                      reason, exception.describe(error)))
        self.workers.spawn(record, 'give-up', give_up, on_done)

    def migration_cancel(self, instance_uuid, attachment_id, on_done=None):
        with self.ctx.attachment_lock(attachment_id):
            record = self.ctx.record(instance_uuid, attachment_id)
            mig = record.get('migration')
            if not mig:
                last = record.get('last_migration')
                if Step.of(last) is Step.CANCELLED:
                    # Repeated cancel: already done.
                    self.workers.spawn(record, 'cancel', lambda: None,
                                       on_done)
                    return
                raise exception.Conflict(
                    reason='attachment %s is not migrating' % attachment_id)
            if Step.of(mig).phase is Phase.COMPLETE:
                # A complete that failed half-way: settle it first.
                self.flows.resolve_switch(record)
            step = Step.of(mig)
            if step.phase in _SWITCHED:
                raise exception.Conflict(
                    reason='attachment %s was already switched to its '
                           'destination; it can no longer be cancelled'
                    % attachment_id)
            if step.phase is not Phase.CANCEL:
                self.ctx.step(record, Step.CANCEL_REQUESTED)
            self.workers.spawn(record, 'cancel',
                               lambda: self.flows.ending.rollback(record),
                               on_done)

    def migration_complete(self, instance_uuid, src_attachment_id,
                           dst_attachment_id, dst_connection_info,
                           on_done=None):
        dst_kind, dst_path = self.ctx.bridges.local(dst_attachment_id,
                                                    dst_connection_info)
        with self.ctx.attachment_lock(src_attachment_id):
            record = self.journal.load(src_attachment_id)
            if record is None:
                done = self.journal.load(dst_attachment_id)
                if done and done.get('migrated_from') == src_attachment_id:
                    self.workers.spawn(done, 'done', lambda: None, on_done)
                    return {'target': done['target']}
                raise exception.AttachmentNotFound(
                    attachment_id=src_attachment_id)
            record = self.ctx.record(instance_uuid, src_attachment_id)
            mig = record.get('migration')
            self._check_completable(record, dst_attachment_id)
            if Step.of(mig).phase is Phase.COMPLETE:
                # A complete that failed half-way: settle it first.
                self.flows.resolve_switch(record)
            if Step.of(mig) in FROZEN_STEPS:
                self._check_destination(record, dst_connection_info,
                                        dst_kind, dst_path)
                self.flows.switch(record, {
                    'dst_attachment_id': dst_attachment_id,
                    'dst_connection_info': dst_connection_info,
                    'destination': dst_path, 'destination_kind': dst_kind,
                    'dst_bridge': self.ctx.bridges.entry(
                        dst_attachment_id, dst_connection_info)})
            self.workers.spawn(record, 'fold',
                               lambda: self.flows.ending.fold(record),
                               on_done)
            return {'target': record['target']}

    @staticmethod
    def _check_completable(record, dst_attachment_id):
        mig = record.get('migration')
        step = Step.of(mig)
        if step not in FROZEN_STEPS and (
                step is None or step.phase not in _COMPLETING):
            gave_up = (record.get('last_migration') or {}).get('gave_up')
            if gave_up and not mig:
                raise exception.MigrationGivenUp(reason=gave_up['reason'])
            raise exception.Conflict(
                reason='attachment %s is not frozen for migration (%s)'
                % (record['attachment_id'], step or 'not migrating'))
        if mig.get('dst_attachment_id') not in (None, dst_attachment_id):
            raise exception.Conflict(
                reason='attachment %s is being completed onto %s'
                % (record['attachment_id'], mig['dst_attachment_id']))

    @staticmethod
    def _check_destination(record, location, kind, path):
        """Refuse a destination that is the source or too small.  An nbd
        one is checked by its identity and the size it records here, by
        what it serves once its bridge connects (``connect_destination``).
        """
        mig = record['migration']
        remote = bridges.remote_key(location)
        if remote is not None:
            name = remote
            same = remote == bridges.remote_key(record['connection_info'])
            dst_size = payloads.location_size(location, None)
        else:
            name = path
            same = base.same_path(path, mig['source'])
            try:
                dst_size = images.size_of(path)
            except OSError as e:
                raise exception.InvalidInput(
                    reason='destination %s cannot be opened: %s' % (path, e))
        if same:
            raise exception.InvalidInput(
                reason='the destination is the source')
        src_size = mig.get('size') or images.volume_size(mig['source_kind'],
                                                         mig['source'])
        if dst_size is not None and dst_size < src_size:
            raise exception.InvalidInput(
                reason='destination %s holds %d bytes, the source %d'
                       % (name, dst_size, src_size))


class LibvirtOfflineDriver(LibvirtDriver):
    """For a hypervisor without live block jobs: a migration starts only
    while the instance is shut off (its power state comes from
    libvirt); a running one is refused with InstanceNotFreezable.  The
    instance stays locked (``lock.py``) until complete or cancel, as
    with the libvirt driver."""
    supports_live_migration = False
