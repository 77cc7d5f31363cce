"""The volume worker's journal of its NBD exports, on local disk.

One JSON entry per export, ``<state_path>/volume-exports/<name>.json``,
written durably before its daemon starts (and again once it listens)
and removed once the daemon is stopped, so that a worker that starts
finds every daemon a previous run may have left::

  {"name": the export's name (payloads.export_name),
   "volume_id", "backend", "path": the volume's local path,
   "block": whether it is a block device, "size",
   "clients": the host names allowed, "writable",
   "address", "port": where it listens,
   "pidfile", "log": the daemon's files (next to the entry),
   "pid": the daemon's pid once it listens (None before),
   "created_at" (seconds since the epoch)}
"""

import os
import time

from migrator_volume import records

DIRECTORY = 'volume-exports'


class ExportJournal(records.Records):

    def __init__(self, state_path):
        super().__init__(os.path.join(state_path, DIRECTORY), key='name',
                         order='created_at')

    def new_entry(self, name, volume_id, backend, path, block, size,
                  clients, writable, address):
        base = os.path.join(self.path, name)
        return {'name': name, 'volume_id': volume_id, 'backend': backend,
                'path': path, 'block': bool(block), 'size': size,
                'clients': sorted(set(clients)),
                'writable': bool(writable), 'address': address,
                'port': None, 'pidfile': base + '.pid',
                'log': base + '.log', 'pid': None,
                'created_at': time.time()}

    def remove(self, key):
        super().remove(key)
        for suffix in ('.pid', '.log'):
            try:
                os.unlink(os.path.join(self.path, key + suffix))
            except FileNotFoundError:
                pass
