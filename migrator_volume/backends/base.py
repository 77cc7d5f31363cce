"""The interface every storage backend driver implements.

A volume's location is a connection description in the shape of
Cinder's connection_info (``{"driver_volume_type": ..., "data": {...}}``),
never a bare path: only the driver that owns a location turns it into a
local path, after checking that it really points into its backend.
"""

import abc
import re

from migrator_api.common import exception
from migrator_api.rpcapi import payloads

_VOLUME_ID_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$')


def check_volume_id(volume_id):
    """Refuse ids that could escape a directory or name nothing."""
    if not isinstance(volume_id, str) or not _VOLUME_ID_RE.match(volume_id):
        raise exception.InvalidInput(
            reason='volume id %r must be 1 to 255 letters, digits, "_", '
                   '"-" or "." and start with a letter or digit'
                   % (volume_id,))


def check_size(size):
    """A volume size is a positive whole number of bytes."""
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise exception.InvalidInput(
            reason='volume size must be a positive number of bytes, not %r'
                   % (size,))


class VolumeDriver(metaclass=abc.ABCMeta):
    """One configured backend.

    :param name: the backend name (its configuration section).
    :param conf: the backend's option group (``conf[name]``).
    :param state_path: the worker's ``[DEFAULT] state_path``.
    """

    #: The ``driver_volume_type`` of the locations this driver hands out.
    backend_type = None
    #: Whether a newly created volume reads as zeroes everywhere.
    reads_zeroes = False
    #: Whether the volumes can hold holes (unallocated ranges).
    sparse = False

    def __init__(self, name, conf, state_path):
        self.name = name
        self.conf = conf
        self.state_path = state_path

    def do_setup(self):
        """Check the configuration and prepare the backend."""

    def capabilities(self):
        return {
            'migration_progress_report': self.conf.migration_progress_report,
            'sparse': self.sparse,
            'reads_zeroes': self.reads_zeroes,
        }

    def get_stats(self):
        """What the conductor schedules on (reported with heartbeats)."""
        total, free = self._capacity()
        return payloads.backend_stats(self.name, self.backend_type,
                                      self.capabilities(), total, free)

    @abc.abstractmethod
    def _capacity(self):
        """Return (total, free) bytes."""

    @abc.abstractmethod
    def create_volume(self, volume_id, size):
        """Create a raw volume of ``size`` bytes; return its location.

        Creating a volume that already exists with the same size returns
        its location (a retried request).
        """

    @abc.abstractmethod
    def delete_volume(self, volume_id, location):
        """Delete a volume; a volume already gone is not an error."""

    @abc.abstractmethod
    def owns(self, location):
        """Whether ``location`` describes a volume of this backend."""

    @abc.abstractmethod
    def local_path(self, location):
        """The local path of an existing volume of this backend.

        :raises InvalidInput: the location is not one of this backend.
        :raises VolumeNotFound: it names no existing volume.
        """

    def _location_path(self, location):
        """The path a location of this backend's type names."""
        try:
            return payloads.location_path(location, (self.backend_type,))[1]
        except exception.InvalidInput as e:
            raise exception.InvalidInput(
                reason='not a location of backend %s: %s'
                       % (self.name, e.kwargs['reason']))
