"""One qemu-storage-daemon per export: its command line, start, stop,
and what the worker can learn of it from /proc.

The daemon serves one volume (``--blockdev`` file or host_device, read
only unless the export is writable) as one NBD export on the host's
``[nbd] listen_address`` and a port of its own, TLS only (x509 from
``[nbd] tls_dir``, the client's certificate verified), and lets in
only the identities of the export's clients (an ``authz-list`` that
denies everyone else).  It is started with ``--daemonize`` (the
command returns once the export listens) in a session of its own,
holding none of the worker's descriptors (its output goes to a log
file), so that it lives on whatever happens to the worker; its
pidfile and the export's journal entry are how a later run of the
worker finds it again.
"""

import errno
import json
import os
import signal
import subprocess
import time

from migrator_api.common import exception
from migrator_volume.exports import tls
from migrator_volume import fsutils

#: Seconds stop() waits for the daemon to exit after SIGTERM (then
#: SIGKILL).
STOP_WAIT = 10
#: What a daemon that could not bind its port says.
PORT_IN_USE = 'Address already in use'
#: TCP state ESTABLISHED in /proc/net/tcp.
_ESTABLISHED = '01'


def command(conf, entry):
    """The argv serving ``entry`` (a journal entry, see exports.journal)."""
    writable = bool(entry['writable'])
    blockdev = {'driver': 'host_device' if entry['block'] else 'file',
                'node-name': 'volume', 'filename': entry['path'],
                'read-only': not writable, 'cache': {
                    'direct': fsutils.supports_direct_io(
                        entry['path'],
                        os.O_RDWR if writable else os.O_RDONLY)}}
    if writable:
        blockdev['discard'] = 'unmap'
    authz = {'qom-type': 'authz-list', 'id': 'authz0', 'policy': 'deny',
             'rules': [{'match': tls.identity(client), 'policy': 'allow',
                        'format': 'exact'} for client in entry['clients']]}
    creds = {'qom-type': 'tls-creds-x509', 'id': 'tls0',
             'endpoint': 'server', 'dir': conf.nbd.tls_dir,
             'verify-peer': True}
    server = {'addr': {'type': 'inet', 'host': entry['address'],
                       'port': str(entry['port'])},
              'tls-creds': 'tls0', 'tls-authz': 'authz0'}
    export = {'type': 'nbd', 'id': 'export0', 'node-name': 'volume',
              'name': entry['name'], 'writable': writable}
    return [conf.nbd.qemu_storage_daemon,
            '--blockdev', json.dumps(blockdev),
            '--object', json.dumps(creds),
            '--object', json.dumps(authz),
            '--nbd-server', json.dumps(server),
            '--export', json.dumps(export),
            '--pidfile', entry['pidfile'], '--daemonize']


def start(conf, entry, prefix=()):
    """Start the daemon of ``entry``; its pid once the export listens.

    :param prefix: a command the daemon is run under (the tests run it
        inside a host's network namespace).
    :raises PortInUse: the port was taken.
    :raises VolumeBackendError: it did not start.
    """
    _unlink(entry['pidfile'])
    with open(entry['log'], 'ab') as log:
        try:
            result = subprocess.run(
                list(prefix) + command(conf, entry),
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                close_fds=True, start_new_session=True,
                timeout=conf.nbd.start_timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise exception.VolumeBackendError(
                backend=entry['backend'],
                reason='cannot start the NBD export %s: %s'
                       % (entry['name'], e))
    if result.returncode != 0:
        said = _tail(entry['log'])
        if PORT_IN_USE in said:
            raise PortInUse(said)
        raise exception.VolumeBackendError(
            backend=entry['backend'],
            reason='the NBD export %s did not start (exit status %d): %s'
                   % (entry['name'], result.returncode, said))
    pid = pid_of(entry)
    if pid is None:
        raise exception.VolumeBackendError(
            backend=entry['backend'],
            reason='the NBD export %s started but wrote no pid to %s'
                   % (entry['name'], entry['pidfile']))
    return pid


class PortInUse(Exception):
    """The port of an export was taken by someone else."""


def pid_of(entry):
    """The pid of the daemon serving ``entry`` if it runs, else None.

    The pid (from the entry, else its pidfile) counts only while that
    process is a live qemu-storage-daemon naming this pidfile: a pid
    reused by another process, or a zombie, is not the daemon."""
    pid = entry.get('pid')
    if pid is None:
        try:
            with open(entry['pidfile']) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return None
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            argv = f.read().split(b'\0')
        with open('/proc/%d/stat' % pid) as f:
            state = f.read().rsplit(')', 1)[1].split()[0]
    except (OSError, IndexError):
        return None
    if state in ('Z', 'X') or entry['pidfile'].encode() not in argv:
        return None
    return pid


def stop(entry):
    """Stop the daemon of ``entry`` (gone already: fine)."""
    pid = pid_of(entry)
    if pid is not None:
        _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_WAIT
        while pid_of(entry) is not None:
            if time.monotonic() > deadline:
                _signal(pid, signal.SIGKILL)
                deadline = time.monotonic() + STOP_WAIT
            time.sleep(0.02)
    _unlink(entry['pidfile'])


def connections(pid, port):
    """How many TCP connections to ``port`` are established in the
    network namespace of process ``pid`` (the daemon's clients)."""
    count = 0
    for table in ('tcp', 'tcp6'):
        try:
            with open('/proc/%d/net/%s' % (pid, table)) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state = fields[1], fields[3]
            if state == _ESTABLISHED and \
                    int(local.rsplit(':', 1)[1], 16) == port:
                count += 1
    return count


def _signal(pid, signum):
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _unlink(path):
    try:
        os.unlink(path)
    except OSError as e:
        if e.errno != errno.ENOENT:
            raise


def _tail(path, size=2000):
    try:
        with open(path, 'rb') as f:
            f.seek(max(0, os.path.getsize(path) - size))
            return f.read().decode('utf-8', 'replace').strip()
    except OSError:
        return ''
