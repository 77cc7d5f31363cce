"""A directory of JSON records on local disk, one file per key: the
volume worker's journals (copies: copy.journal; exports:
exports.journal).

Each record is replaced atomically (fileutils.write_json_atomic), and
durably unless asked otherwise; ``entries()`` reads them back, oldest
first, as a worker that starts finds them.
"""

import json
import os
import re
import threading

from oslo_log import log as logging

from migrator_api.common import fileutils

LOG = logging.getLogger(__name__)

_SUFFIX = '.json'
_SAFE_KEY = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$')


class Records:
    """:param path: the directory.
    :param key: the field of a record naming its file.
    :param order: the field ``entries()`` sorts on.
    """

    def __init__(self, path, key, order):
        self.path = path
        self.key = key
        self.order = order
        self._lock = threading.Lock()

    def _file(self, key):
        if not isinstance(key, str) or not _SAFE_KEY.match(key):
            raise ValueError('invalid %s %r' % (self.key, key))
        return os.path.join(self.path, key + _SUFFIX)

    def save(self, entry, durable=True):
        """Write ``entry`` atomically; durably unless ``durable`` is
        False."""
        path = self._file(entry[self.key])
        with self._lock:
            os.makedirs(self.path, mode=0o700, exist_ok=True)
            fileutils.write_json_atomic(path, entry, durable=durable)

    def remove(self, key):
        with self._lock:
            try:
                os.unlink(self._file(key))
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
                self._file(entry[self.key])
            except (OSError, ValueError, KeyError, TypeError):
                LOG.exception('Ignoring unreadable journal entry %s', full)
                continue
            found.append(entry)
        found.sort(key=lambda e: e.get(self.order) or 0)
        return found


def _unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
