"""The libvirt compute driver: the public calls, locking, the journal,
background workers and crash recovery.

The flows themselves live in ``live.py`` (running domain: overlay,
shallow copy, fold-in) and ``stopped.py`` (shut-off domain: lock and
swap; and the offline finish of a live migration whose domain went
down meanwhile); ``lock.py`` keeps a migrating domain from starting.
Each flow looks at the domain's actual XML before each step, so
re-running it after a crash continues where it stopped.
"""

import collections
import os
import threading
import time

import libvirt
from oslo_log import log as logging

from migrator_api.common import exception
from migrator_api.rpcapi import payloads
from migrator_compute.drivers import base
from migrator_compute.drivers.libvirt import attach
from migrator_compute.drivers.libvirt import blockjob
from migrator_compute.drivers.libvirt import guest
from migrator_compute.drivers.libvirt import host as host_mod
from migrator_compute.drivers.libvirt import images
from migrator_compute.drivers.libvirt import live
from migrator_compute.drivers.libvirt import lock
from migrator_compute.drivers.libvirt import recovery
from migrator_compute.drivers.libvirt import stopped
from migrator_compute import journal as journal_mod

LOG = logging.getLogger(__name__)
J = journal_mod

#: One lock per domain for the whole process, held while a domain's
#: definition is read and changed, and by the pivots: every driver on
#: the host (tests run several at once) takes the same.
_DOM_LOCKS = collections.defaultdict(threading.RLock)
_DOM_GUARD = threading.Lock()


class LibvirtDriver(attach.AttachFlows, live.LiveFlows,
                    stopped.StoppedFlows, lock.DomainLock, recovery.Recovery,
                    base.ComputeDriver):
    supports_live_migration = True

    def __init__(self, conf, host=None):
        c = conf.compute
        self.conf = conf
        self.host = host or host_mod.Host(c.libvirt_uri,
                                          c.libvirt_reconnect_timeout)
        self.journal = journal_mod.Journal(c.journal_path)
        self.overlay_path = c.overlay_path
        os.makedirs(self.overlay_path, mode=0o700, exist_ok=True)
        self.job_timeout = c.block_job_timeout
        self.detach_timeout = c.device_detach_timeout
        self._guard = threading.Lock()
        self._att_locks = collections.defaultdict(threading.RLock)
        self._workers = {}
        #: ``{attachment_id: {'freeze': s, 'switch': s, ...}}``
        self.timings = {}
        #: tests set this to ``fn(step, phase)`` to simulate a crash
        #: ('before-journal' / 'after-journal' of each step).
        self.fault_hook = None
        self.host.add_lifecycle_listener(self._on_lifecycle)

    # -- small helpers ----------------------------------------------------

    def _att_lock(self, attachment_id):
        with self._guard:
            return self._att_locks[attachment_id]

    def _dom_lock(self, instance_uuid):
        with _DOM_GUARD:
            return _DOM_LOCKS[instance_uuid]

    def _fault(self, step, phase):
        if self.fault_hook is not None:
            self.fault_hook(step, phase)

    def _step(self, record, step, **fields):
        """Durably record that ``step`` is about to be taken."""
        self._fault(step, 'before-journal')
        self.journal.set_step(record, step, **fields)
        LOG.debug('Attachment %s: step %s', record['attachment_id'], step)
        self._fault(step, 'after-journal')

    def _timing(self, record, name, seconds):
        self.timings.setdefault(record['attachment_id'], {})[name] = seconds
        LOG.info('Attachment %s of %s: %s took %.3f s',
                 record['attachment_id'], record['instance_uuid'], name,
                 seconds)

    def _record(self, instance_uuid, attachment_id):
        record = self.journal.load(attachment_id)
        if record is None or record['instance_uuid'] != instance_uuid:
            raise exception.AttachmentNotFound(attachment_id=attachment_id)
        return record

    def _overlay_file(self, record, name):
        return os.path.join(self.overlay_path, '%s.%s.qcow2' % (
            record['attachment_id'], name))

    def _lock_file(self, record):
        return os.path.join(self.overlay_path, guest.LOCK_PREFIX +
                            record['attachment_id'])

    def _define_disk(self, record, disk_elem):
        """Rewrite the persistent definition of the record's disk."""
        uuid = record['instance_uuid']
        with self._dom_lock(uuid):
            dom = self.host.find_domain(uuid)
            if dom is None or not dom.isPersistent():
                return False
            xml = guest.persistent_xml(dom)
            if guest.find_disk(guest.parse(xml), record['target']) is None:
                return False
            self.host.get().defineXML(
                guest.replace_disk(xml, record['target'], disk_elem))
            return True

    def _persistent_root(self, instance_uuid):
        return blockjob.persistent_root(self.host, instance_uuid)

    def _is_active(self, instance_uuid):
        def query(conn):
            try:
                return bool(conn.lookupByUUIDString(instance_uuid).isActive())
            except libvirt.libvirtError as e:
                if e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                    return None
                raise
        return self.host.retry(query, 'domain state')

    # -- background workers -----------------------------------------------

    def _spawn(self, record, name, fn, on_done):
        aid = record['attachment_id']

        def run():
            err = None
            try:
                with self._att_lock(aid):
                    fn()
            except Exception as e:
                LOG.exception('%s of attachment %s failed', name, aid)
                err = e
            finally:
                with self._guard:
                    if self._workers.get(aid, (None, None))[1] is \
                            threading.current_thread():
                        del self._workers[aid]
            if on_done is not None:
                try:
                    on_done(err)
                except Exception:
                    LOG.exception('on_done callback of %s failed', aid)

        with self._guard:
            thread = threading.Thread(target=run, daemon=True,
                                      name='%s-%s' % (name, aid[:8]))
            self._workers[aid] = (record['instance_uuid'], thread)
            thread.start()
        return thread

    def is_busy(self, instance_uuid):
        with self._guard:
            if any(u == instance_uuid for u, _t in self._workers.values()):
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
        if record is None or not record.get('migration'):
            return None
        return record['migration']['step']

    def cleanup(self):
        self.host.close()

    def get_instance(self, instance_uuid):
        info = self.host.domain_info(instance_uuid)
        if info is None:
            raise exception.InstanceNotFound(instance=instance_uuid,
                                             host=self.conf.host)
        return info

    # -- the migration contract ------------------------------------------

    def migration_start(self, instance_uuid, attachment_id):
        with self._att_lock(attachment_id):
            record = self._record(instance_uuid, attachment_id)
            mig = record.get('migration')
            if mig:
                if mig['step'] in (J.FROZEN, J.OFFLINE_LOCKED):
                    return {'mode': mig['mode']}
                raise exception.Conflict(
                    reason='attachment %s is already migrating (%s)'
                           % (attachment_id, mig['step']))
            kind, path = payloads.location_path(record['connection_info'])
            self._check_not_shared(record, path)
            dom = self.host.domain(instance_uuid)
            if dom.isActive():
                self._live_start(record, kind, path)
            else:
                self._offline_start(record, kind, path)
            return {'mode': record['migration']['mode']}

    def migration_cancel(self, instance_uuid, attachment_id, on_done=None):
        with self._att_lock(attachment_id):
            record = self._record(instance_uuid, attachment_id)
            mig = record.get('migration')
            if not mig:
                last = record.get('last_migration') or {}
                if last.get('step') == 'cancelled':
                    # Repeated cancel: already done.
                    self._spawn(record, 'cancel', lambda: None, on_done)
                    return
                raise exception.Conflict(
                    reason='attachment %s is not migrating' % attachment_id)
            if mig['step'].startswith('complete:'):
                # A complete that failed half-way: settle it first.
                self._resolve_switch(record)
            phase = mig['step'].split(':')[0]
            if phase in ('switched', 'fold', 'finished'):
                raise exception.Conflict(
                    reason='attachment %s was already switched to its '
                           'destination; it can no longer be cancelled'
                    % attachment_id)
            if phase != 'cancel':
                self._step(record, 'cancel:requested')
            self._spawn(record, 'cancel', lambda: self._rollback(record),
                        on_done)

    def migration_complete(self, instance_uuid, src_attachment_id,
                           dst_attachment_id, dst_connection_info,
                           on_done=None):
        dst_kind, dst_path = payloads.location_path(dst_connection_info)
        with self._att_lock(src_attachment_id):
            record = self.journal.load(src_attachment_id)
            if record is None:
                done = self.journal.load(dst_attachment_id)
                if done and done.get('migrated_from') == src_attachment_id:
                    self._spawn(done, 'done', lambda: None, on_done)
                    return {'target': done['target']}
                raise exception.AttachmentNotFound(
                    attachment_id=src_attachment_id)
            record = self._record(instance_uuid, src_attachment_id)
            mig = record.get('migration')
            step = mig['step'] if mig else None
            if not mig or step.split(':')[0] not in (
                    J.FROZEN, 'offline', 'complete', J.SWITCHED, 'fold',
                    J.FINISHED) or step == J.OFFLINE_LOCK:
                raise exception.Conflict(
                    reason='attachment %s is not frozen for migration (%s)'
                    % (src_attachment_id, step or 'not migrating'))
            if mig.get('dst_attachment_id') not in (None,
                                                    dst_attachment_id):
                raise exception.Conflict(
                    reason='attachment %s is being completed onto %s'
                    % (src_attachment_id, mig['dst_attachment_id']))
            if step.startswith('complete:'):
                # A complete that failed half-way: settle it first.
                self._resolve_switch(record)
                step = mig['step']
            if step in (J.FROZEN, J.OFFLINE_LOCKED):
                self._check_destination(dst_path, mig)
                dst = {'dst_attachment_id': dst_attachment_id,
                       'dst_connection_info': dst_connection_info,
                       'destination': dst_path,
                       'destination_kind': dst_kind}
                if mig['mode'] == 'offline':
                    self._offline_switch(record, dst)
                elif self._is_active(instance_uuid):
                    self._live_switch(record, dst)
                else:
                    self._cold_switch(record, dst)
            self._spawn(record, 'fold', lambda: self._fold(record), on_done)
            return {'target': record['target']}

    def _check_destination(self, dst_path, mig):
        if base.same_path(dst_path, mig['source']):
            raise exception.InvalidInput(
                reason='the destination is the source')
        try:
            dst_size = images.size_of(dst_path)
        except OSError as e:
            raise exception.InvalidInput(
                reason='destination %s cannot be opened: %s' % (dst_path, e))
        src_size = mig.get('size') or images.size_of(mig['source'])
        if dst_size < src_size:
            raise exception.InvalidInput(
                reason='destination %s holds %d bytes, the source %d'
                       % (dst_path, dst_size, src_size))

    def _finish(self, record):
        """The migration is over: the disk now belongs to the
        destination attachment."""
        mig = record['migration']
        if mig['step'] != J.FINISHED:
            self._step(record, J.FINISHED)
        dst = self.journal.new_record(
            mig['dst_attachment_id'], record['instance_uuid'],
            record['target'], mig['dst_connection_info'], state='attached',
            migrated_from=record['attachment_id'],
            migration_history=mig.get('history'))
        self.journal.save(dst)
        self.journal.delete(record['attachment_id'])
        LOG.info('Attachment %s of %s replaced by %s (%s)',
                 record['attachment_id'], record['instance_uuid'],
                 mig['dst_attachment_id'], mig['destination'])
