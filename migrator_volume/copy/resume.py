"""Whether a copy that a previous run of the worker left running can
resume, and from where.

The worker asks this of each such entry of its journal when it starts
(VolumeManager.init_host).  A copy can resume from the watermark its
entry records when its destination is still there, as large as the
copy, and its local source still holds the bytes it held when the copy
started; the conductor then decides (the migration must still be
copying, its destination volume must still exist) and casts the copy
again with that offset.  Anything else is reported as today: the copy
was interrupted, the migration rolls back.
"""

import os

from migrator_api.common import exception
from migrator_api.rpcapi import payloads
from migrator_volume import backends as mbackends
from migrator_volume import fsutils

#: The end of a copy that a previous run of the worker left running.
INTERRUPTED = 'the volume worker restarted; the copy was interrupted'


class _CannotResume(Exception):
    """Why a copy cannot resume."""


def resume_point(entry, backends):
    """``(offset, None)``: the copy can resume from offset; ``(None,
    reason)``: it cannot, and why."""
    try:
        size = int(entry['size'])
        offset = int(entry.get('watermark') or 0)
        if not 0 <= offset <= size:
            return None, 'its recorded watermark %d is not within its %d ' \
                         'bytes' % (offset, size)
        _check_destination(entry, backends, size)
        _check_source(entry, backends)
    except (exception.MigratorException, _CannotResume) as exc:
        return None, str(exc)
    except (KeyError, TypeError, ValueError) as exc:
        return None, 'its journal entry is unreadable (%s)' % exc
    except OSError as exc:
        return None, str(exc)
    return offset, None


def _check_destination(entry, backends, size):
    driver = mbackends.get_backend(backends, entry['dst_backend'])
    path = driver.local_path(entry['dst_location'])
    if not os.path.exists(path):
        raise _CannotResume('its destination %s is gone' % path)
    have = fsutils.device_size(path)
    if have < size and not os.path.isfile(path):
        raise _CannotResume(
            'its destination %s holds %d bytes, fewer than the %d '
            'to copy' % (path, have, size))


def _check_source(entry, backends):
    location = entry['src_location']
    if payloads.is_nbd(location):
        return      # another host's: the conductor checks its size
    path = mbackends.find_owner(backends, location).local_path(location)
    have = fsutils.device_size(path)
    expected = entry.get('src_bytes')
    if expected is not None and have != expected:
        raise _CannotResume(
            'its source %s changed size (%d bytes, %d when the copy '
            'started)' % (path, have, expected))
    if have < int(entry['size']):
        raise _CannotResume(
            'its source %s holds %d bytes, fewer than the %d to '
            'copy' % (path, have, entry['size']))


def cannot_resume(reason):
    """The error of a lost copy that cannot resume."""
    return '%s; it cannot resume: %s' % (INTERRUPTED, reason)
