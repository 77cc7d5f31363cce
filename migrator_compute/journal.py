"""The compute agent's crash-recovery journal.

One JSON record per attachment, ``<journal_path>/<attachment_id>.json``.
A record names the instance, the disk target and the attached
connection (for a volume of another host, also its NBD bridge,
``bridge``: written before the bridge starts), and, while a volume
migration runs, every path the migration uses (source, overlays,
destination, the destination's bridge ``dst_bridge``) and the step it
is at.

The driver writes the step it is *about to take* before taking it, so
after a crash the journal always names a step that may or may not have
happened, never one that happened unrecorded.  Recovery then looks at
the domain's live and persistent XML to see which it was.

Writes are atomic: a temporary file in the same directory, fsync,
rename over the record, fsync of the directory.
"""

import copy
import enum
import json
import os
import re
import threading
import time

from oslo_log import log as logging

from migrator_api.common import fileutils

LOG = logging.getLogger(__name__)

_SAFE_ID = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.:-]{0,254}$')
_SUFFIX = '.json'


class Phase(enum.StrEnum):
    """The part of a step's name before ':' (the whole name when there
    is none)."""
    START = 'start'
    FROZEN = 'frozen'
    OFFLINE = 'offline'
    COMPLETE = 'complete'
    SWITCHED = 'switched'
    FOLD = 'fold'
    FINISHED = 'finished'
    CANCEL = 'cancel'
    CANCELLED = 'cancelled'


class Step(enum.StrEnum):
    """The steps of a migration, as a record's ``migration['step']``
    names them: the step about to be taken.  The values are what the
    journal files hold, so that records written by earlier versions
    are recovered.

    ::

      start:overlay, start:lock, start:snapshot -> frozen      (running)
      offline:lock                           -> offline:locked (shut off)
      complete:overlay2, complete:copy, complete:pivot  (live)
      complete:cold-lock, complete:cold-rebase  (the domain went down)
      complete:offline                      (shut off)   -> switched
      fold:commit, fold:pivot | fold:cold-lock, fold:cold-commit,
      fold:config, fold:cleanup -> finished (the record moves to the
                                             destination attachment)
      cancel:requested, cancel:commit, cancel:pivot | cancel:cold-lock,
      cancel:cold-commit, cancel:config, cancel:cleanup -> no migration
                                             (``last_migration`` says
                                             ``cancelled``)
    """
    START_OVERLAY = 'start:overlay'
    START_LOCK = 'start:lock'
    START_SNAPSHOT = 'start:snapshot'
    FROZEN = 'frozen'
    OFFLINE_LOCK = 'offline:lock'
    OFFLINE_LOCKED = 'offline:locked'
    COMPLETE_OVERLAY2 = 'complete:overlay2'
    COMPLETE_COPY = 'complete:copy'
    COMPLETE_PIVOT = 'complete:pivot'
    COMPLETE_COLD_LOCK = 'complete:cold-lock'
    COMPLETE_COLD_REBASE = 'complete:cold-rebase'
    COMPLETE_OFFLINE = 'complete:offline'
    SWITCHED = 'switched'
    FOLD_COMMIT = 'fold:commit'
    FOLD_PIVOT = 'fold:pivot'
    FOLD_COLD_LOCK = 'fold:cold-lock'
    FOLD_COLD_COMMIT = 'fold:cold-commit'
    FOLD_CONFIG = 'fold:config'
    FOLD_CLEANUP = 'fold:cleanup'
    FINISHED = 'finished'
    CANCEL_REQUESTED = 'cancel:requested'
    CANCEL_COMMIT = 'cancel:commit'
    CANCEL_PIVOT = 'cancel:pivot'
    CANCEL_COLD_LOCK = 'cancel:cold-lock'
    CANCEL_COLD_COMMIT = 'cancel:cold-commit'
    CANCEL_CONFIG = 'cancel:config'
    CANCEL_CLEANUP = 'cancel:cleanup'
    #: Not a step of a running migration: ``last_migration['step']``
    #: once a rollback ended.
    CANCELLED = 'cancelled'

    @property
    def phase(self):
        return Phase(self.value.partition(':')[0])

    @classmethod
    def of(cls, migration):
        """The step ``migration`` (a record's ``migration``) is at: None
        for no migration, or one that has not taken its first step.
        Raises UnknownStep for a name this version does not know."""
        value = migration.get('step') if migration else None
        if value is None:
            return None
        try:
            return cls(value)
        except ValueError:
            raise UnknownStep('unknown migration step %r' % (value,))


class UnknownStep(ValueError):
    """A journal record names a step this version does not know."""


class Mode(enum.StrEnum):
    """A record's ``migration['mode']``."""
    LIVE = 'live'           # the domain ran at start: overlays
    OFFLINE = 'offline'     # the domain was shut off at start: the lock


#: Steps in which a migration waits for cancel or complete.
FROZEN_STEPS = frozenset({Step.FROZEN, Step.OFFLINE_LOCKED})


def check_id(attachment_id):
    """``attachment_id`` if it is safe as a file name; else ValueError."""
    if not isinstance(attachment_id, str) or not _SAFE_ID.match(
            attachment_id):
        raise ValueError('invalid attachment id %r' % (attachment_id,))
    return attachment_id


_DIR_LOCKS = {}
_DIR_GUARD = threading.Lock()


def _dir_lock(path):
    """One lock per journal directory for the whole process: every
    Journal on it (tests run several drivers at once) writes and cleans
    up under the same lock."""
    with _DIR_GUARD:
        return _DIR_LOCKS.setdefault(os.path.realpath(path),
                                     threading.Lock())


class Journal(object):
    """Records of attachments and their migrations, on local disk."""

    def __init__(self, path, key='attachment_id'):
        self.path = path
        self.key = key
        os.makedirs(path, mode=0o700, exist_ok=True)
        self._lock = _dir_lock(path)

    def _file(self, attachment_id):
        return os.path.join(self.path, check_id(attachment_id) + _SUFFIX)

    def save(self, record):
        """Atomically write ``record`` (a dict with the key field,
        ``attachment_id`` by default)."""
        final = self._file(record[self.key])
        record['updated_at'] = time.time()
        with self._lock:
            fileutils.write_json_atomic(final, record)
        return record

    def load(self, attachment_id):
        """The record of ``attachment_id``, or None."""
        try:
            with open(self._file(attachment_id), 'rb') as f:
                return json.loads(f.read())
        except FileNotFoundError:
            return None

    def delete(self, attachment_id):
        with self._lock:
            try:
                os.unlink(self._file(attachment_id))
            except FileNotFoundError:
                return
            fileutils.fsync_dir(self.path)

    def records(self):
        """Every record, oldest first.  Stray temporary files of an
        interrupted write are removed: the rename never happened, so
        the previous version of the record is still the valid one.  (Under
        the lock: the temporary file of a write in progress in another
        thread is no stray.)"""
        with self._lock:
            return self._records()

    def _records(self):
        out = []
        for name in sorted(os.listdir(self.path)):
            full = os.path.join(self.path, name)
            # (Temporary files of older versions ended with ".tmp".)
            if fileutils.is_temporary(name) or name.endswith('.tmp'):
                LOG.info('Removing unfinished journal write %s', full)
                try:
                    os.unlink(full)
                except FileNotFoundError:
                    pass
                continue
            if not name.endswith(_SUFFIX):
                continue
            try:
                with open(full, 'rb') as f:
                    out.append(json.loads(f.read()))
            except (OSError, ValueError):
                LOG.exception('Unreadable journal record %s', full)
        out.sort(key=lambda r: r.get('created_at', 0))
        return out

    def set_step(self, record, step, **fields):
        """Record that the migration of ``record`` is about to take
        ``step`` (with ``fields`` merged into the migration), durably."""
        migration = record['migration']
        migration.update(fields)
        migration['step'] = Step(step)
        migration.setdefault('history', []).append([migration['step'],
                                                    time.time()])
        return self.save(record)

    @staticmethod
    def new_record(attachment_id, instance_uuid, target, connection_info,
                   **extra):
        record = {
            'attachment_id': check_id(attachment_id),
            'instance_uuid': instance_uuid,
            'target': target,
            'connection_info': copy.deepcopy(connection_info),
            'state': 'attaching',
            'migration': None,
            'created_at': time.time(),
        }
        record.update(extra)
        return record
