"""The NBD exports of one volume worker: the data path between hosts.

``[nbd] enabled`` makes the worker serve its volumes to the other
hosts a migration or an attachment names, and read theirs (the copy:
copy.nbdio).  Each export is one qemu-storage-daemon (exports.daemon)
serving one volume to a list of hosts, read-only or writable, on a port
of its own; its name says what it grants (payloads.export_name), so
that asking again for the same export returns the same location.

Lifecycle: an export exists only while the conductor needs it.  It is
recorded in the journal (exports.journal) before its daemon starts and
removed once the daemon is stopped; unexport (or the deletion of the
volume) closes it.  The daemons outlive the worker's process (a guest
or a copy reading one is not cut off by a restart of the worker):

* a worker that starts finds the exports its previous run left; each
  waits ``[nbd] reclaim_timeout`` seconds for the conductor to ask for
  it again (export_volume, which keeps it as it is), then is closed at
  the next heartbeat, unless a client is still connected to it (its
  migration or attachment is not over: it is then closed by its
  unexport, or at a later heartbeat once nobody reads it);
* a worker that stops closes the exports nobody is connected to and
  leaves the others running, for its next start to settle.
"""

import threading
import time

from oslo_log import log as logging

from migrator_api.common import exception
from migrator_api.rpcapi import payloads
from migrator_volume.exports import daemon
from migrator_volume.exports import journal
from migrator_volume.exports import tls
from migrator_volume import fsutils

LOG = logging.getLogger(__name__)


class Exports:
    """:param conf: the worker's configuration (``[nbd]``).
    :param prefix: a command the daemons run under (the tests: a host's
        network namespace); empty in a deployment, where the worker runs
        on its host.
    """

    def __init__(self, conf, state_path, prefix=()):
        self.conf = conf
        self.journal = journal.ExportJournal(state_path)
        self.prefix = tuple(prefix)
        self._lock = threading.Lock()
        self._entries = {}
        #: {name: monotonic deadline} of the exports a previous run left.
        self._leftover = {}

    @property
    def enabled(self):
        return bool(self.conf.nbd.enabled)

    def capabilities(self):
        """What the backends of this worker report (admission reads it)."""
        return {'nbd': self.enabled}

    def check_config(self):
        """Refuse to start with an [nbd] section that cannot work."""
        if not self.enabled:
            return
        nbd = self.conf.nbd
        problems = []
        if not nbd.listen_address:
            problems.append('listen_address is not set')
        missing = tls.missing_files(nbd.tls_dir)
        if missing:
            problems.append('tls_dir %s lacks %s' % (nbd.tls_dir,
                                                     ', '.join(missing)))
        if nbd.min_port > nbd.max_port:
            problems.append('min_port %d is above max_port %d'
                            % (nbd.min_port, nbd.max_port))
        if problems:
            raise exception.InvalidInput(
                reason='[nbd] enabled, but %s' % '; '.join(problems))

    def recover(self):
        """At start: keep the live daemons of a previous run for
        reclaim_timeout seconds; forget the dead ones."""
        deadline = time.monotonic() + self.conf.nbd.reclaim_timeout
        with self._lock:
            for entry in self.journal.entries():
                pid = daemon.pid_of(entry)
                if pid is None:
                    LOG.info('Export %s of volume %s is gone', entry['name'],
                             entry['volume_id'])
                    self.journal.remove(entry['name'])
                    continue
                entry['pid'] = pid
                self._entries[entry['name']] = entry
                self._leftover[entry['name']] = deadline
                LOG.info('Export %s of volume %s to %s was left running '
                         '(pid %d): kept for %d s unless asked for again',
                         entry['name'], entry['volume_id'],
                         ', '.join(entry['clients']), pid,
                         self.conf.nbd.reclaim_timeout)
        self.reclaim()

    def export(self, backend, volume_id, path, clients, writable):
        """Export a local volume to ``clients``; its nbd location."""
        if not self.enabled:
            raise exception.InvalidInput(
                reason='this volume worker serves no NBD exports ([nbd] '
                       'enabled is false)')
        clients = sorted(set(clients or ()))
        if not clients:
            raise exception.InvalidInput(reason='an export needs clients')
        for client in clients:
            tls.check_host(client)
        name = payloads.export_name(volume_id, clients, writable)
        with self._lock:
            entry = self._entries.get(name)
            if entry is not None and (
                    entry['path'], entry['address']) != (
                    path, self.conf.nbd.listen_address):
                self._close(entry)      # moved since: serve it anew
                entry = None
            if entry is None:
                entry = self.journal.new_entry(
                    name, volume_id, backend, path,
                    fsutils.is_block_device(path),
                    fsutils.device_size(path), clients, writable,
                    self.conf.nbd.listen_address)
            if daemon.pid_of(entry) is None:
                self._start(entry)
            self._leftover.pop(name, None)
        return payloads.nbd_location(entry['address'], entry['port'], name,
                                     entry['size'], tls=True)

    def _ports(self, entry):
        """The ports to try for ``entry``: its own first (a daemon that
        died comes back where its clients look for it)."""
        taken = {e['port'] for e in self._entries.values()
                 if e is not entry}
        ports = [p for p in range(self.conf.nbd.min_port,
                                  self.conf.nbd.max_port + 1)
                 if p not in taken]
        if entry['port'] in ports:
            ports.remove(entry['port'])
            ports.insert(0, entry['port'])
        return ports

    def _start(self, entry):
        for port in self._ports(entry):
            entry['port'], entry['pid'] = port, None
            self._entries[entry['name']] = entry
            self.journal.save(entry)        # before the daemon exists
            try:
                entry['pid'] = daemon.start(self.conf, entry, self.prefix)
            except daemon.PortInUse:
                continue
            except Exception:
                self._forget(entry)
                raise
            self.journal.save(entry)
            LOG.info('Exported volume %s (%s) to %s as %s on %s:%d, %s, '
                     'pid %d', entry['volume_id'], entry['path'],
                     ', '.join(entry['clients']), entry['name'],
                     entry['address'], port,
                     'writable' if entry['writable'] else 'read-only',
                     entry['pid'])
            return
        self._forget(entry)
        raise exception.VolumeBackendError(
            backend=entry['backend'],
            reason='no free port between [nbd] min_port %d and max_port %d'
                   % (self.conf.nbd.min_port, self.conf.nbd.max_port))

    def unexport(self, volume_id, name=None):
        """Close the exports of ``volume_id`` (only ``name``, if given);
        the names closed (none: nothing to close, which is fine)."""
        with self._lock:
            entries = [e for e in self._entries.values()
                       if e['volume_id'] == volume_id and
                       name in (None, e['name'])]
            for entry in entries:
                self._close(entry)
        return sorted(e['name'] for e in entries)

    def _close(self, entry):
        daemon.stop(entry)
        self._forget(entry)
        LOG.info('Closed export %s of volume %s', entry['name'],
                 entry['volume_id'])

    def _forget(self, entry):
        self.journal.remove(entry['name'])
        self._entries.pop(entry['name'], None)
        self._leftover.pop(entry['name'], None)

    def names(self, volume_id=None):
        with self._lock:
            return sorted(n for n, e in self._entries.items()
                          if volume_id in (None, e['volume_id']))

    def reclaim(self):
        """(Each heartbeat) close the leftovers of a previous run whose
        time is up and that nobody reads."""
        now = time.monotonic()
        with self._lock:
            for name, deadline in list(self._leftover.items()):
                entry = self._entries[name]
                if now < deadline:
                    continue
                pid = daemon.pid_of(entry)
                if pid is not None and daemon.connections(pid,
                                                          entry['port']):
                    continue        # still read: its unexport closes it
                LOG.info('Export %s of volume %s was not asked for again: '
                         'closing it', name, entry['volume_id'])
                self._close(entry)

    def stop_idle(self):
        """(The worker stops) close the exports nobody is connected to;
        leave the others to the next start of the worker."""
        with self._lock:
            for entry in list(self._entries.values()):
                pid = daemon.pid_of(entry)
                if pid is not None and daemon.connections(pid,
                                                          entry['port']):
                    LOG.warning('Export %s of volume %s is in use: left '
                                'running (pid %d) for the next start of '
                                'this worker', entry['name'],
                                entry['volume_id'], pid)
                    continue
                self._close(entry)
