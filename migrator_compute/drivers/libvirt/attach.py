"""Attach and detach (virtio-scsi disks: they hot-plug and unplug
cleanly, also in a guest without an OS), and the check that a source
is not used by any other disk on this host."""

import os
import time

import libvirt
from oslo_log import log as logging

from migrator_api.common import exception
from migrator_api.rpcapi import payloads
from migrator_compute.drivers.libvirt import blockjob
from migrator_compute.drivers.libvirt import guest

LOG = logging.getLogger(__name__)


class AttachFlows(object):

    # -- attach / detach --------------------------------------------------

    def attach_volume(self, instance_uuid, attachment_id, connection_info):
        kind, path = payloads.location_path(connection_info)
        with self._att_lock(attachment_id), self._dom_lock(instance_uuid):
            old = self.journal.load(attachment_id)
            if old is not None:
                if old['instance_uuid'] == instance_uuid and \
                        old.get('state') == 'attached' and \
                        payloads.location_path(old['connection_info']) == \
                        (kind, path):
                    return {'target': old['target'], 'bus': 'scsi'}
                raise exception.Conflict(
                    reason='attachment %s already exists' % attachment_id)
            dom = self.host.domain(instance_uuid)
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
                raise exception.ComputeError(
                    host=self.conf.host,
                    reason='attaching %s to %s failed: %s'
                           % (path, instance_uuid, e))
            record['state'] = 'attached'
            self.journal.save(record)
            LOG.info('Attached %s to %s as %s', path, instance_uuid, target)
            return {'target': target, 'bus': 'scsi'}

    def detach_volume(self, instance_uuid, attachment_id):
        with self._att_lock(attachment_id):
            record = self._record(instance_uuid, attachment_id)
            if record.get('migration'):
                raise exception.Conflict(
                    reason='attachment %s is migrating (%s); cancel or '
                           'complete the migration first'
                    % (attachment_id, record['migration']['step']))
            record['state'] = 'detaching'
            self.journal.save(record)
            self._detach(record)
            self.journal.delete(attachment_id)

    def _detach(self, record):
        uuid, target = record['instance_uuid'], record['target']
        with self._dom_lock(uuid):
            dom = self.host.find_domain(uuid)
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
        deadline = time.monotonic() + self.detach_timeout
        while True:
            root = blockjob.live_root(self.host, uuid)
            if root is None or guest.find_disk(root, target) is None:
                return
            if time.monotonic() > deadline:
                raise exception.ComputeError(
                    host=self.conf.host,
                    reason='disk %s of %s was not released by the guest'
                           % (target, uuid))
            time.sleep(0.05)

    def _check_not_shared(self, record, path):
        """Refuse when the source is also used by another disk."""
        real = os.path.realpath(path)
        users = []
        for dom in self.host.all_domains():
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
