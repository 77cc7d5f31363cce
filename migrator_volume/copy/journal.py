"""The volume worker's journal of the copies it runs, on local disk.

One JSON entry per migration, ``<state_path>/volume-copies/<migration
id>.json``, replaced atomically and durably (fileutils.write_json_atomic)
when the copy starts, at each progress report and when it ends, and
removed once its end has been reported to the conductor.  What a worker
finds when it starts are the copies a previous run lost: it died, or
could not report their end.  It reports them (VolumeManager.init_host)
so that the conductor acts at once.

An entry holds what a later resume of the copy needs::

  {"migration_id", "volume_id", "src_location", "dst_backend",
   "dst_location", "size",
   "bytes_done": the bytes written as last reported (with requests in
                 flight a count, not an offset below which all is
                 written),
   "state": "running" until the copy ended, then done|error|cancelled,
   "error", "started_at", "updated_at" (seconds since the epoch)}
"""

import json
import os
import re
import threading
import time

from oslo_log import log as logging

from migrator_api.common import fileutils


LOG = logging.getLogger(__name__)

DIRECTORY = 'volume-copies'
_SUFFIX = '.json'
_SAFE_ID = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$')


class CopyJournal:

    def __init__(self, state_path):
        self.path = os.path.join(state_path, DIRECTORY)
        self._lock = threading.Lock()

    def _file(self, migration_id):
        if not isinstance(migration_id, str) or not _SAFE_ID.match(
                migration_id):
            raise ValueError('invalid migration id %r' % (migration_id,))
        return os.path.join(self.path, migration_id + _SUFFIX)

    @staticmethod
    def new_entry(migration_id, volume_id, src_location, dst_backend,
                  dst_location, size):
        now = time.time()
        return {'migration_id': migration_id, 'volume_id': volume_id,
                'src_location': src_location, 'dst_backend': dst_backend,
                'dst_location': dst_location, 'size': size,
                'bytes_done': 0, 'state': 'running', 'error': None,
                'started_at': now, 'updated_at': now}

    def save(self, entry, durable=True):
        """Write ``entry`` atomically; durably unless ``durable`` is False
        (a progress mark: losing it to a power loss costs only some bytes
        copied again, and no fsync slows the copy)."""
        entry['updated_at'] = time.time()
        path = self._file(entry['migration_id'])
        with self._lock:
            os.makedirs(self.path, mode=0o700, exist_ok=True)
            fileutils.write_json_atomic(path, entry, durable=durable)

    def remove(self, migration_id):
        with self._lock:
            try:
                os.unlink(self._file(migration_id))
            except FileNotFoundError:
                return
            fileutils.fsync_dir(self.path)

    def entries(self):
        """Every entry, oldest first.  The temporary file of a write
        that never reached its rename is removed: the entry it was to
        replace is still the valid one."""
        try:
            names = sorted(os.listdir(self.path))
        except FileNotFoundError:
            return []
        found = []
        for name in names:
            full = os.path.join(self.path, name)
            if not name.endswith(_SUFFIX):
                if _SUFFIX + '.tmp.' in name:
                    LOG.info('Removing unfinished journal write %s', full)
                    _unlink(full)
                continue
            try:
                with open(full) as f:
                    entry = json.load(f)
                self._file(entry['migration_id'])
            except (OSError, ValueError, KeyError, TypeError):
                LOG.exception('Ignoring unreadable copy journal entry %s',
                              full)
                continue
            found.append(entry)
        found.sort(key=lambda e: e.get('started_at') or 0)
        return found


def _unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
