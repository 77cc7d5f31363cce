"""Attachments: attach and detach (virtio-scsi disks: they hot-plug and
unplug cleanly, also in a guest without an OS), their recovery, and the
check that a source is not used by any other disk on this host.

An nbd volume (another host's) is attached through its bridge
(``bridges.py``): recorded in the journal, started, then the disk on its
socket is plugged in; detach unplugs the disk, then stops the bridge."""

import time

import libvirt
from oslo_log import log as logging

from migrator_api.common import exception
from migrator_api.rpcapi import payloads
from migrator_compute.drivers import base
from migrator_compute.drivers.libvirt import bridges as bridges_mod
from migrator_compute.drivers.libvirt import guest

LOG = logging.getLogger(__name__)


class Attachments(object):
    """The attachments of one driver (``ctx``: its Context)."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.journal = ctx.journal

    def attach_volume(self, instance_uuid, attachment_id, connection_info):
        bridges = self.ctx.bridges
        kind, path = bridges.local(attachment_id, connection_info)
        with self.ctx.attachment_lock(attachment_id), \
                self.ctx.domain_lock(instance_uuid):
            old = self.journal.load(attachment_id)
            if old is not None:
                if old['instance_uuid'] == instance_uuid and \
                        old.get('state') == 'attached' and same_volume(
                            old['connection_info'], connection_info):
                    bridges.settle(old)     # running, if it should be
                    return {'target': old['target'], 'bus': 'scsi'}
                raise exception.Conflict(
                    reason='attachment %s already exists' % attachment_id)
            dom = self.ctx.host.domain(instance_uuid)
            active, persistent = dom.isActive(), dom.isPersistent()
            live_root = guest.parse(guest.live_xml(dom)) if active else None
            pers_root = guest.parse(guest.persistent_xml(dom)) \
                if persistent else None
            flags = ((libvirt.VIR_DOMAIN_AFFECT_LIVE if active else 0) |
                     (libvirt.VIR_DOMAIN_AFFECT_CONFIG if persistent else 0))
            if not guest.has_virtio_scsi(live_root if active else pers_root):
                dom.attachDeviceFlags(guest.VIRTIO_SCSI_CONTROLLER, flags)
            target = guest.next_scsi_target(live_root, pers_root)
            entry = bridges.entry(attachment_id, connection_info)
            record = self.journal.new_record(
                attachment_id, instance_uuid, target, connection_info,
                **({'bridge': entry} if entry else {}))
            self.journal.save(record)
            try:
                if entry:
                    bridges.start(entry)
                dom.attachDeviceFlags(
                    guest.new_disk_xml(target, kind, path), flags)
            except Exception as e:
                if entry:
                    bridges.stop(entry)
                self.journal.delete(attachment_id)
                if isinstance(e, exception.MigratorException):
                    raise
                raise self.ctx.error('attaching %s to %s failed: %s'
                                     % (path, instance_uuid, e))
            record['state'] = 'attached'
            self.journal.save(record)
            LOG.info('Attached %s to %s as %s', bridges_mod.remote_key(
                connection_info) or path, instance_uuid, target)
            return {'target': target, 'bus': 'scsi'}

    def detach_volume(self, instance_uuid, attachment_id):
        with self.ctx.attachment_lock(attachment_id):
            record = self.ctx.record(instance_uuid, attachment_id)
            if record.get('migration'):
                raise exception.Conflict(
                    reason='attachment %s is migrating (%s); cancel or '
                           'complete the migration first'
                    % (attachment_id, record['migration']['step']))
            record['state'] = 'detaching'
            self.journal.save(record)
            self.finish_detach(record)

    def finish_detach(self, record):
        """Take the disk off the domain, live and persistently, stop the
        bridge of an nbd volume, then forget the attachment."""
        self._detach(record)
        if record.get('bridge'):
            self.ctx.bridges.stop(record['bridge'])
        self.journal.delete(record['attachment_id'])

    def _detach(self, record):
        uuid, target = record['instance_uuid'], record['target']
        with self.ctx.domain_lock(uuid):
            dom = self.ctx.host.find_domain(uuid)
            if dom is None:
                return
            if dom.isActive():
                disk = guest.find_disk(guest.parse(guest.live_xml(dom)),
                                       target)
                if disk is not None:
                    dom.detachDeviceFlags(guest.tostring(disk),
                                          libvirt.VIR_DOMAIN_AFFECT_LIVE)
            if dom.isPersistent():
                disk = guest.find_disk(
                    guest.parse(guest.persistent_xml(dom)), target)
                if disk is not None:
                    dom.detachDeviceFlags(guest.tostring(disk),
                                          libvirt.VIR_DOMAIN_AFFECT_CONFIG)
        deadline = time.monotonic() + self.ctx.detach_timeout
        while True:
            root = self.ctx.live_root(uuid)
            if root is None or guest.find_disk(root, target) is None:
                return
            if time.monotonic() > deadline:
                raise self.ctx.error('disk %s of %s was not released by the '
                                     'guest' % (target, uuid))
            time.sleep(0.05)

    def recover_attach(self, record):
        """An attach that never returned: keep it when the domain uses
        the volume, else forget it."""
        uuid, target = record['instance_uuid'], record['target']
        _kind, path = self.ctx.bridges.local(record['attachment_id'],
                                             record['connection_info'])
        roots = [self.ctx.persistent_root(uuid), self.ctx.live_root(uuid)]
        for root in roots:
            if root is not None and base.same_path(
                    guest.top_path(root, target) or '/', path):
                record['state'] = 'attached'
                self.journal.save(record)
                self.ctx.bridges.settle(record, strict=False)
                return 'attached'
        if record.get('bridge'):
            self.ctx.bridges.stop(record['bridge'])
        self.journal.delete(record['attachment_id'])
        return 'attach rolled back'

    def check_not_shared(self, record, path):
        """Refuse when the source is also used by another disk of this
        host, or (an nbd volume) by another attachment of this host."""
        keys = {base.path_key(path)}
        remote = bridges_mod.remote_key(record['connection_info'])
        if remote:
            keys.add(remote)
        users = self._disks_using(record, keys)
        if remote:
            users += ['attachment %s of %s' % (r['attachment_id'],
                                               r['instance_uuid'])
                      for r in self.journal.records()
                      if r['attachment_id'] != record['attachment_id'] and
                      bridges_mod.remote_key(r['connection_info']) == remote]
        if users:
            raise exception.MultiAttachRefused(
                message='Volume at %s is also attached to %s; a '
                        'multi-attached volume cannot be migrated.'
                        % (remote or path, ', '.join(sorted(set(users)))))

    def _disks_using(self, record, keys):
        """``domain/target`` of the other disks using any of ``keys``."""
        users = []
        for dom in self.ctx.host.all_domains():
            roots = []
            try:
                if dom.isActive():
                    roots.append(guest.parse(guest.live_xml(dom)))
                if dom.isPersistent():
                    roots.append(guest.parse(guest.persistent_xml(dom)))
            except libvirt.libvirtError as e:
                if e.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                    raise
                continue    # went away meanwhile
            for root in roots:
                for key, target in guest.paths_in_use(root).items():
                    if key not in keys or (
                            dom.UUIDString() == record['instance_uuid'] and
                            target == record['target']):
                        continue
                    users.append('%s/%s' % (dom.name(), target))
        return users


def same_volume(a, b):
    """Whether the locations ``a`` and ``b`` name the same volume."""
    remote = bridges_mod.remote_key(a)
    if remote is not None or payloads.is_nbd(b):
        return remote == bridges_mod.remote_key(b)
    return payloads.location_path(a) == payloads.location_path(b)
