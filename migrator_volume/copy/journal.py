"""The volume worker's journal of the copies it runs, on local disk.

One JSON entry per migration, ``<state_path>/volume-copies/<migration
id>.json``, replaced atomically and durably (records.Records)
when the copy starts, at each progress report and when it ends, and
removed once its end has been reported to the conductor.  What a worker
finds when it starts are the copies a previous run lost: it died, or
could not report their end.  It reports them (VolumeManager.init_host)
so that the conductor acts at once: a copy that was still running can
resume from its watermark (doc/source/admin/copy-resume.rst).

An entry holds what a later resume of the copy needs::

  {"migration_id", "volume_id", "src_location", "dst_backend",
   "dst_location", "size",
   "src_bytes": the size of a local source when the copy started (a
                source of another size is not resumed), or None,
   "bytes_done": the bytes written as last reported (with requests in
                 flight a count, not an offset below which all is
                 written),
   "watermark": below it every byte is durably on the destination (the
                destination was synced before it was recorded, durably),
   "reserved": the copy wrote nothing at or past it (None: not known),
   "resumed_from": the watermark each resume or retry started from,
   "recopied_bytes": bytes the resumes wrote again that an interrupted
                     run may have written (copied twice at most),
   "state": "running" until the copy ended, then done|error|cancelled,
   "error", "started_at", "updated_at" (seconds since the epoch)}
"""

import os
import time

from migrator_volume import records

DIRECTORY = 'volume-copies'


class CopyJournal(records.Records):

    def __init__(self, state_path):
        super().__init__(os.path.join(state_path, DIRECTORY),
                         key='migration_id', order='started_at')

    @staticmethod
    def new_entry(migration_id, volume_id, src_location, dst_backend,
                  dst_location, size):
        now = time.time()
        return {'migration_id': migration_id, 'volume_id': volume_id,
                'src_location': src_location, 'dst_backend': dst_backend,
                'dst_location': dst_location, 'size': size,
                'src_bytes': None, 'bytes_done': 0, 'watermark': 0,
                'reserved': None, 'resumed_from': [], 'recopied_bytes': 0,
                'state': 'running', 'error': None,
                'started_at': now, 'updated_at': now}

    def get(self, migration_id):
        """The entry of a migration, or None."""
        for entry in self.entries():
            if entry['migration_id'] == migration_id:
                return entry
        return None

    def save(self, entry, durable=True):
        """Write ``entry`` atomically; durably unless ``durable`` is False
        (a progress mark: losing it to a power loss costs only some bytes
        copied again, and no fsync slows the copy)."""
        entry['updated_at'] = time.time()
        super().save(entry, durable=durable)
