"""A directory of sparse raw files, one per volume (``volume-<id>``).

It stands for NFS-style backends.  A new volume is a hole of the
requested size: it reads as zeroes and allocates nothing until written.
"""

import errno
import os

from oslo_log import log as logging

from migrator_api.common import exception
from migrator_api.common import fileutils
from migrator_api.rpcapi import payloads
from migrator_volume.backends import base

LOG = logging.getLogger(__name__)

PREFIX = 'volume-'


class FileDriver(base.VolumeDriver):
    backend_type = 'file'
    reads_zeroes = True
    sparse = True

    def __init__(self, name, conf, state_path):
        super().__init__(name, conf, state_path)
        path = conf.file_path or os.path.join(state_path, 'backends', name)
        self.directory = os.path.realpath(path)

    def do_setup(self):
        try:
            os.makedirs(self.directory, exist_ok=True)
        except OSError as e:
            raise exception.VolumeBackendError(
                backend=self.name,
                reason='cannot create %s: %s' % (self.directory, e))
        LOG.info('File backend %s stores volumes in %s', self.name,
                 self.directory)

    def _capacity(self):
        st = os.statvfs(self.directory)
        return st.f_blocks * st.f_frsize, st.f_bavail * st.f_frsize

    def _path(self, volume_id):
        return os.path.join(self.directory, PREFIX + volume_id)

    def _location(self, path):
        return payloads.file_location(path)

    def create_volume(self, volume_id, size):
        base.check_volume_id(volume_id)
        base.check_size(size)
        path = self._path(volume_id)
        if os.path.exists(path):
            existing = os.path.getsize(path)
            if existing != size:
                raise exception.Conflict(
                    reason='volume %s already exists on backend %s with '
                           '%d bytes, not %d' % (volume_id, self.name,
                                                 existing, size))
            return self._location(path)
        tmp = path + '.creating'
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC
                         | os.O_CLOEXEC, 0o600)
            try:
                os.ftruncate(fd, size)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.rename(tmp, path)
            fileutils.fsync_dir(self.directory)
        except OSError as e:
            if os.path.exists(tmp):
                os.unlink(tmp)
            if e.errno in (errno.EFBIG, errno.ENOSPC):
                raise exception.InsufficientCapacity(
                    backend=self.name, size=size, reason=e.strerror)
            raise exception.VolumeBackendError(
                backend=self.name, reason='creating %s: %s' % (path, e))
        LOG.info('Created volume %s (%d bytes) at %s', volume_id, size, path)
        return self._location(path)

    def delete_volume(self, volume_id, location):
        base.check_volume_id(volume_id)
        path = self._checked_path(location)
        if path != self._path(volume_id):
            raise exception.InvalidInput(
                reason='location %s is not the one of volume %s'
                       % (path, volume_id))
        try:
            os.unlink(path)
        except FileNotFoundError:
            LOG.info('Volume %s was already deleted', volume_id)
            return
        fileutils.fsync_dir(self.directory)
        LOG.info('Deleted volume %s (%s)', volume_id, path)

    def _checked_path(self, location):
        path = self._location_path(location)
        real = os.path.realpath(path)
        name = os.path.basename(real)
        if (os.path.dirname(real) != self.directory
                or not name.startswith(PREFIX) or real != path):
            raise exception.InvalidInput(
                reason='path %s is not a volume of backend %s (volumes are '
                       '%s/%s<id>)' % (path, self.name, self.directory,
                                       PREFIX))
        base.check_volume_id(name[len(PREFIX):])
        return path

    def owns(self, location):
        try:
            self._checked_path(location)
        except exception.InvalidInput:
            return False
        return True

    def local_path(self, location):
        path = self._checked_path(location)
        if not os.path.isfile(path):
            raise exception.VolumeNotFound(
                'No volume at %s on backend %s.' % (path, self.name))
        return path
