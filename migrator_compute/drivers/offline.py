"""The offline-only compute driver, for hypervisors without live block
jobs.

It knows nothing of a hypervisor: it keeps its own records of
instances (their power state, as reported with ``set_power_state``)
and of attachments (target and connection info).  A migration may
start only while the instance is known to be shut off; the instance is
then locked: ``power_on`` is refused until cancel or complete (the
agent's manager powers instances on through the driver, as nova's
compute manager checks a task state).  Complete swaps the recorded
connection to the destination; no data moves on this host.

Records are kept in the journal directory: one per attachment (as the
libvirt driver does) and one per instance under ``instances/``.
"""

import os
import threading
import time

from oslo_log import log as logging

from migrator_api.common import exception
from migrator_api.common import threads
from migrator_api.rpcapi import payloads
from migrator_compute.drivers import base
from migrator_compute import journal as J

LOG = logging.getLogger(__name__)

RUNNING = 'running'
SHUTOFF = 'shutoff'
UNKNOWN = 'unknown'


class OfflineDriver(base.ComputeDriver):
    supports_live_migration = False

    def __init__(self, conf):
        self.conf = conf
        self.journal = J.Journal(conf.compute.journal_path)
        self.instances = J.Journal(
            os.path.join(conf.compute.journal_path, 'instances'),
            key='instance_uuid')
        self._lock = threading.RLock()
        self._workers = {}

    # -- instances --------------------------------------------------------

    def _instance(self, instance_uuid):
        return self.instances.load(instance_uuid) or {
            'instance_uuid': instance_uuid, 'power_state': UNKNOWN,
            'locked_by': None}

    def set_power_state(self, instance_uuid, state):
        """Record the instance's power state as the hypervisor reports
        it (``running`` or ``shutoff``)."""
        if state not in (RUNNING, SHUTOFF, UNKNOWN):
            raise exception.InvalidInput(reason='bad power state %r' % state)
        with self._lock:
            inst = self._instance(instance_uuid)
            if state == RUNNING and inst.get('locked_by'):
                LOG.error('Instance %s reported running while locked for '
                          'the migration of %s', instance_uuid,
                          inst['locked_by'])
            inst['power_state'] = state
            self.instances.save(inst)

    def power_on(self, instance_uuid):
        """Refused while a migration holds the instance."""
        with self._lock:
            inst = self._instance(instance_uuid)
            if inst.get('locked_by'):
                raise exception.Conflict(
                    reason='instance %s is locked by the migration of '
                           'attachment %s' % (instance_uuid,
                                              inst['locked_by']))
            inst['power_state'] = RUNNING
            self.instances.save(inst)

    def power_state(self, instance_uuid):
        return self._instance(instance_uuid)['power_state']

    def get_instance(self, instance_uuid):
        """Known once its power state was reported or a volume was
        attached to it."""
        if self.instances.load(instance_uuid) is None and not any(
                r['instance_uuid'] == instance_uuid
                for r in self.journal.records()):
            raise exception.InstanceNotFound(instance=instance_uuid,
                                             host=self.conf.host)
        return {'uuid': instance_uuid, 'name': instance_uuid,
                'power_state': self.power_state(instance_uuid)}

    # -- attachments ------------------------------------------------------

    def _record(self, instance_uuid, attachment_id):
        record = self.journal.load(attachment_id)
        if record is None or record['instance_uuid'] != instance_uuid:
            raise exception.AttachmentNotFound(attachment_id=attachment_id)
        return record

    def attach_volume(self, instance_uuid, attachment_id, connection_info):
        payloads.location_path(connection_info)
        with self._lock:
            old = self.journal.load(attachment_id)
            if old is not None:
                if old['instance_uuid'] == instance_uuid:
                    return {'target': old['target']}
                raise exception.Conflict(
                    reason='attachment %s already exists' % attachment_id)
            used = {r['target'] for r in self.journal.records()
                    if r['instance_uuid'] == instance_uuid}
            n = 0
            while 'disk%d' % n in used:
                n += 1
            record = self.journal.new_record(
                attachment_id, instance_uuid, 'disk%d' % n, connection_info,
                state='attached')
            self.journal.save(record)
            return {'target': record['target']}

    def detach_volume(self, instance_uuid, attachment_id):
        with self._lock:
            record = self._record(instance_uuid, attachment_id)
            if record.get('migration'):
                raise exception.Conflict(
                    reason='attachment %s is migrating' % attachment_id)
            self.journal.delete(attachment_id)

    def connection_info(self, attachment_id):
        record = self.journal.load(attachment_id)
        return record and record['connection_info']

    # -- migration --------------------------------------------------------

    def _spawn(self, record, fn, on_done):
        aid = record['attachment_id']

        def run():
            err = None
            try:
                with self._lock:
                    fn()
            except Exception as e:
                LOG.exception('Offline migration step of %s failed', aid)
                err = e
            finally:
                with self._lock:
                    self._workers.pop(aid, None)
            if on_done is not None:
                on_done(err)

        with self._lock:
            self._workers[aid] = record['instance_uuid']
            threads.spawn('offline-%s' % aid[:8], run)

    def _step(self, record, step, **fields):
        self.journal.set_step(record, step, **fields)

    def migration_start(self, instance_uuid, attachment_id):
        with self._lock:
            record = self._record(instance_uuid, attachment_id)
            mig = record.get('migration')
            if mig:
                if mig['step'] == J.OFFLINE_LOCKED:
                    return {'mode': 'offline'}
                raise exception.Conflict(
                    reason='attachment %s is already migrating (%s)'
                           % (attachment_id, mig['step']))
            inst = self._instance(instance_uuid)
            if inst['power_state'] != SHUTOFF:
                raise exception.InstanceNotFreezable(
                    instance=instance_uuid,
                    reason='its power state is %s; this host cannot move '
                           'a running guest\'s writes, so the instance '
                           'must be shut off' % inst['power_state'])
            kind, path = payloads.location_path(record['connection_info'])
            others = [r['attachment_id'] for r in self.journal.records()
                      if r['attachment_id'] != attachment_id and
                      payloads.location_path(r['connection_info']) ==
                      (kind, path)]
            if others:
                raise exception.MultiAttachRefused(
                    message='Volume at %s is also attached as %s.'
                            % (path, ', '.join(others)))
            record['migration'] = {'mode': 'offline', 'step': None,
                                   'source': path, 'source_kind': kind,
                                   'started_at': time.time()}
            self._step(record, J.OFFLINE_LOCK)
            inst['locked_by'] = attachment_id
            self.instances.save(inst)
            self._step(record, J.OFFLINE_LOCKED)
            return {'mode': 'offline'}

    def migration_cancel(self, instance_uuid, attachment_id, on_done=None):
        with self._lock:
            record = self._record(instance_uuid, attachment_id)
            mig = record.get('migration')
            if not mig:
                raise exception.Conflict(
                    reason='attachment %s is not migrating' % attachment_id)
            if mig['step'] in (J.SWITCHED, J.FINISHED):
                raise exception.Conflict(
                    reason='attachment %s was already switched to its '
                           'destination' % attachment_id)
            self._step(record, 'cancel:requested')
            self._spawn(record, lambda: self._unlock(record), on_done)

    def _unlock(self, record):
        inst = self._instance(record['instance_uuid'])
        if inst.get('locked_by') == record['attachment_id']:
            inst['locked_by'] = None
            self.instances.save(inst)
        record['migration'] = None
        self.journal.save(record)

    def migration_complete(self, instance_uuid, src_attachment_id,
                           dst_attachment_id, dst_connection_info,
                           on_done=None):
        kind, path = payloads.location_path(dst_connection_info)
        with self._lock:
            record = self.journal.load(src_attachment_id)
            if record is None:
                done = self.journal.load(dst_attachment_id)
                if done and done.get('migrated_from') == src_attachment_id:
                    self._spawn(done, lambda: None, on_done)
                    return {'target': done['target']}
                raise exception.AttachmentNotFound(
                    attachment_id=src_attachment_id)
            record = self._record(instance_uuid, src_attachment_id)
            mig = record.get('migration')
            if not mig or mig['step'] not in (J.OFFLINE_LOCKED,
                                              'complete:offline'):
                raise exception.Conflict(
                    reason='attachment %s is not frozen for migration (%s)'
                    % (src_attachment_id, mig and mig['step']))
            self._step(record, 'complete:offline',
                       dst_attachment_id=dst_attachment_id,
                       dst_connection_info=dst_connection_info,
                       destination=path, destination_kind=kind)
            self._finish(record)
            self._spawn(record, lambda: None, on_done)
            return {'target': record['target']}

    def _finish(self, record):
        mig = record['migration']
        self._step(record, J.FINISHED)
        dst = self.journal.new_record(
            mig['dst_attachment_id'], record['instance_uuid'],
            record['target'], mig['dst_connection_info'], state='attached',
            migrated_from=record['attachment_id'])
        self.journal.save(dst)
        inst = self._instance(record['instance_uuid'])
        if inst.get('locked_by') == record['attachment_id']:
            inst['locked_by'] = None
            self.instances.save(inst)
        self.journal.delete(record['attachment_id'])

    def recover(self):
        out = []
        with self._lock:
            for record in self.journal.records():
                mig = record.get('migration')
                if not mig:
                    continue
                step = mig['step']
                if step in (None, J.OFFLINE_LOCK) or \
                        step.startswith('cancel:'):
                    self._unlock(record)
                    outcome = 'cancelled'
                elif step in ('complete:offline', J.FINISHED):
                    self._finish(record)
                    outcome = 'completed'
                else:
                    inst = self._instance(record['instance_uuid'])
                    if inst.get('locked_by') != record['attachment_id']:
                        inst['locked_by'] = record['attachment_id']
                        self.instances.save(inst)
                    outcome = 'frozen'
                out.append((record['attachment_id'], outcome))
        return out

    def is_busy(self, instance_uuid):
        with self._lock:
            if instance_uuid in self._workers.values():
                return True
            return any(r['instance_uuid'] == instance_uuid and
                       r.get('migration') for r in self.journal.records())

    def wait_idle(self, instance_uuid, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.is_busy(instance_uuid):
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def migration_state(self, attachment_id):
        record = self.journal.load(attachment_id)
        mig = record and record.get('migration')
        return mig['step'] if mig else None
