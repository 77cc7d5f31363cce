"""A pool of raw block devices, each holding at most one volume.

Which device holds which volume is recorded in a JSON state file,
replaced atomically and durably before create or delete returns, so a
crash never hands one device to two volumes.  A device is not cleared
when its volume is deleted: a new volume does not read as zeroes, and
the copier zeroes every range it does not write.
"""

import json
import os
import threading

from oslo_log import log as logging

from migrator_api.common import exception
from migrator_api.common import fileutils
from migrator_api.rpcapi import payloads
from migrator_volume.backends import base
from migrator_volume import fsutils

LOG = logging.getLogger(__name__)

STATE_VERSION = 1


class BlockDriver(base.VolumeDriver):
    backend_type = 'block'
    reads_zeroes = False
    sparse = False

    def __init__(self, name, conf, state_path):
        super().__init__(name, conf, state_path)
        self.devices = list(conf.block_devices)
        self.state_file = (conf.block_state_file or
                           os.path.join(state_path, '%s-devices.json' % name))
        self._lock = threading.Lock()
        self._sizes = {}
        self._allocations = {}

    def do_setup(self):
        if not self.devices:
            raise exception.VolumeBackendError(
                backend=self.name, reason='block_devices lists no device')
        real = [os.path.realpath(d) for d in self.devices]
        if len(set(real)) != len(real):
            raise exception.VolumeBackendError(
                backend=self.name,
                reason='block_devices names a device twice: %s'
                       % ', '.join(self.devices))
        for device in self.devices:
            try:
                if not fsutils.is_block_device(device):
                    raise exception.VolumeBackendError(
                        backend=self.name,
                        reason='%s is not a block device' % device)
                self._sizes[device] = fsutils.device_size(device)
            except OSError as e:
                raise exception.VolumeBackendError(
                    backend=self.name, reason='%s: %s' % (device, e))
        os.makedirs(os.path.dirname(self.state_file) or '.', exist_ok=True)
        self._allocations = self._load_state()
        for device in set(self._allocations) - set(self.devices):
            LOG.warning('Backend %s: device %s holds volume %s but is no '
                        'longer in block_devices', self.name, device,
                        self._allocations[device]['volume_id'])
        LOG.info('Block backend %s: %d devices, %d in use (state in %s)',
                 self.name, len(self.devices), len(self._allocations),
                 self.state_file)

    def _load_state(self):
        try:
            with open(self.state_file) as f:
                data = json.load(f)
        except FileNotFoundError:
            return {}
        except ValueError as e:
            raise exception.VolumeBackendError(
                backend=self.name,
                reason='state file %s is corrupt: %s' % (self.state_file, e))
        return data.get('devices', {})

    def _save_state(self, allocations):
        fileutils.write_json_atomic(self.state_file, {
            'version': STATE_VERSION, 'devices': allocations})
        self._allocations = allocations

    def _free_devices(self):
        return [d for d in self.devices if d not in self._allocations]

    def _capacity(self):
        total = sum(self._sizes.values())
        free = sum(self._sizes[d] for d in self._free_devices())
        return total, free

    def get_stats(self):
        stats = super().get_stats()
        with self._lock:
            stats['max_volume_size_bytes'] = max(
                [self._sizes[d] for d in self._free_devices()], default=0)
        return stats

    def _location(self, device):
        # A guest attached to the volume sees the whole device: the
        # volume's size is the device's (the conductor records it).
        return payloads.block_location(device, self._sizes[device])

    def _device_of(self, volume_id):
        for device, entry in self._allocations.items():
            if entry['volume_id'] == volume_id:
                return device
        return None

    def create_volume(self, volume_id, size):
        base.check_volume_id(volume_id)
        base.check_size(size)
        with self._lock:
            device = self._device_of(volume_id)
            if device is not None:
                existing = self._allocations[device]['size']
                if existing != size:
                    raise exception.Conflict(
                        reason='volume %s already exists on backend %s with '
                               '%d bytes, not %d' % (volume_id, self.name,
                                                     existing, size))
                return self._location(device)
            fitting = [d for d in self._free_devices()
                       if self._sizes[d] >= size]
            if not fitting:
                largest = max([self._sizes[d] for d in self._free_devices()],
                              default=0)
                raise exception.InsufficientCapacity(
                    backend=self.name, size=size,
                    reason='no free device is that big (largest free '
                           'device: %d bytes)' % largest)
            device = min(fitting, key=lambda d: self._sizes[d])
            # What a copy of ``size`` bytes will not write must read as
            # zeroes: the volume is the whole device.
            self._zero(device, size, self._sizes[device] - size)
            allocations = dict(self._allocations)
            allocations[device] = {'volume_id': volume_id, 'size': size}
            self._save_state(allocations)
        LOG.info('Created volume %s (%d bytes) on device %s', volume_id,
                 size, device)
        return self._location(device)

    def delete_volume(self, volume_id, location):
        base.check_volume_id(volume_id)
        device = self._checked_device(location)
        with self._lock:
            entry = self._allocations.get(device)
            if entry is None:
                LOG.info('Volume %s was already deleted (%s is free)',
                         volume_id, device)
                return
            if entry['volume_id'] != volume_id:
                raise exception.InvalidInput(
                    reason='device %s holds volume %s, not %s'
                           % (device, entry['volume_id'], volume_id))
            # Cleared first, freed after: a crash in between leaves the
            # device allocated, and the retried delete clears it again.
            self._clear(device, entry['size'])
            allocations = dict(self._allocations)
            del allocations[device]
            self._save_state(allocations)
        LOG.info('Deleted volume %s (device %s is free)', volume_id, device)

    def _clear(self, device, size):
        if self.conf.volume_clear == 'none':
            return
        self._zero(device, 0, self._sizes[device])
        LOG.info('Zeroed %s (%d bytes) of a deleted volume', device,
                 self._sizes[device])

    @staticmethod
    def _zero(device, offset, length):
        if length <= 0:
            return
        fd = os.open(device, os.O_WRONLY)
        try:
            fsutils.zero_out(fd, offset, length)
            os.fsync(fd)
        finally:
            os.close(fd)

    def _checked_device(self, location):
        device = self._location_path(location)
        if device not in self.devices:
            raise exception.InvalidInput(
                reason='%s is not a device of backend %s (its devices: %s)'
                       % (device, self.name, ', '.join(self.devices)))
        return device

    def owns(self, location):
        try:
            self._checked_device(location)
        except exception.InvalidInput:
            return False
        return True

    def local_path(self, location):
        device = self._checked_device(location)
        with self._lock:
            if device not in self._allocations:
                raise exception.VolumeNotFound(
                    'Device %s of backend %s holds no volume.'
                    % (device, self.name))
        return device
