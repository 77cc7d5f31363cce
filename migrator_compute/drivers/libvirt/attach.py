"""Attachments: attach and detach (virtio-scsi disks: they hot-plug and
unplug cleanly, also in a guest without an OS), their recovery, and the
check that a source is not used by any other disk on this host."""

import os
import time

import libvirt
from oslo_log import log as logging

from migrator_api.common import exception
from migrator_api.rpcapi import payloads
from migrator_compute.drivers import base
from migrator_compute.drivers.libvirt import guest

LOG = logging.getLogger(__name__)


class Attachments(object):
    """The attachments of one driver (``ctx``: its Context)."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.journal = ctx.journal

    def attach_volume(self, instance_uuid, attachment_id, connection_info):
        kind, path = payloads.location_path(connection_info)
        with self.ctx.attachment_lock(attachment_id), \
                self.ctx.domain_lock(instance_uuid):
            old = self.journal.load(attachment_id)
            if old is not None:
                if old['instance_uuid'] == instance_uuid and \
                        old.get('state') == 'attached' and \
                        payloads.location_path(old['connection_info']) == \
                        (kind, path):
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
            record = self.journal.new_record(attachment_id, instance_uuid,
                                             target, connection_info)
            self.journal.save(record)
            try:
                dom.attachDeviceFlags(
                    guest.new_disk_xml(target, kind, path), flags)
            except libvirt.libvirtError as e:
                self.journal.delete(attachment_id)
                raise self.ctx.error('attaching %s to %s failed: %s'
                                     % (path, instance_uuid, e))
            record['state'] = 'attached'
            self.journal.save(record)
            LOG.info('Attached %s to %s as %s', path, instance_uuid, target)
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
        """Take the disk off the domain, live and persistently, then
        forget the attachment."""
        self._detach(record)
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
        _kind, path = payloads.location_path(record['connection_info'])
        roots = [self.ctx.persistent_root(uuid), self.ctx.live_root(uuid)]
        for root in roots:
            if root is not None and base.same_path(
                    guest.top_path(root, target) or '/', path):
                record['state'] = 'attached'
                self.journal.save(record)
                return 'attached'
        self.journal.delete(record['attachment_id'])
        return 'attach rolled back'

    def check_not_shared(self, record, path):
        """Refuse when the source is also used by another disk."""
        real = os.path.realpath(path)
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
                target = guest.paths_in_use(root).get(real, False)
                if target is False:
                    continue
                if dom.UUIDString() == record['instance_uuid'] and \
                        target == record['target']:
                    continue
                users.append('%s/%s' % (dom.name(), target))
        if users:
            raise exception.MultiAttachRefused(
                message='Volume at %s is also attached to %s; a '
                        'multi-attached volume cannot be migrated.'
                        % (path, ', '.join(sorted(set(users)))))
