"""NBD bridges: how a guest of this host reaches a volume of another host.

An ``nbd`` location (``payloads.nbd_location``) names an export of
another host's volume worker, served over TCP with TLS: x509
certificates of the deployment's CA, and an authorization list naming
the hosts the migration involves (``O=migrator,CN=<host>``).  For each
attachment of such a location the agent runs a *bridge*: a
qemu-storage-daemon of its own that connects to the export with this
host's credentials (``[nbd] tls_dir``: ``ca-cert.pem``,
``client-cert.pem``, ``client-key.pem``) and serves it again on a unix
socket, ``<journal_path>/nbd/<attachment id>.sock`` (the directory is
0700: only root, and QEMU running as root, reach it)::

    guest's QEMU, libvirt's block jobs, qemu-img
        --NBD, unix socket--> bridge --NBD over TLS--> the volume host's export

libvirt and qemu-img see a local NBD image,
``nbd+unix:///volume?socket=<socket>`` (``images.image_name``): a disk
of type ``network`` (protocol ``nbd``, transport ``unix``), the backing
file string of an overlay.  In the flows the socket stands where a
file's or a block device's path stands (kind ``nbd``), so path
comparisons, the lock and the journal treat every volume alike.

Why not libvirt's own NBD client with TLS: libvirt 9.0 takes the client
certificate from one directory per libvirtd (qemu.conf
``nbd_tls_x509_cert_dir``, read when libvirtd starts), and opens an NBD
image found in a backing chain (an overlay's backing file) with TLS
only when ``nbd_tls = 1`` holds for the whole host.  A bridge uses the
agent's own ``[nbd] tls_dir``, changes nothing in libvirtd, and holds
one TLS connection per volume whoever opens it.  It plays the part of
an os-brick connector (an iSCSI session, an nbd kernel device): it
lives as long as this host uses the volume.

Lifetime; the journal names every bridge before it starts:

* the attachment's volume (the record's ``bridge``): started by attach,
  stopped by detach, and by complete once the domain left the source,
  before complete returns (the volume worker then unexports it);
* a destination (the migration's ``dst_bridge``): started by the
  switch's first step, stopped when a failed switch goes back to
  frozen; after the fold-in it is the destination attachment's
  ``bridge``;
* at agent start (recovery), each bridge a record wants runs again (after
  a reboot, say) and any other bridge of this agent is stopped.

The bridges are daemons of their own (``--daemonize``, in a session of
their own): the agent may stop or restart while its guests keep using
them.  (Under systemd the agent's unit needs ``KillMode=process``, or
stopping the agent would stop them too.)
"""

import json
import os
import signal
import subprocess
import time

from oslo_config import cfg
from oslo_log import log as logging

from migrator_api.common import exception
from migrator_api.rpcapi import payloads
from migrator_compute.drivers.libvirt import images
from migrator_compute import journal
from migrator_compute.journal import Phase
from migrator_compute.journal import Step

LOG = logging.getLogger(__name__)

BINARY = 'qemu-storage-daemon'
SUBDIR = 'nbd'
_SOCKET = '.sock'
_PID = '.pid'
#: The longest path of a unix socket Linux accepts.
_SOCKET_MAX = 107
#: Seconds a bridge may take to connect to its export.
START_TIMEOUT = 60
STOP_TIMEOUT = 10
TLS_FILES = ('ca-cert.pem', 'client-cert.pem', 'client-key.pem')
_SWITCHED = (Phase.SWITCHED, Phase.FOLD, Phase.FINISHED)


def _binary(conf):
    try:
        return conf.nbd.qemu_storage_daemon or BINARY
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError, AttributeError):
        return BINARY


def tls_dir(conf):
    """``[nbd] tls_dir`` of this host, or None (not set, or an option
    this configuration does not have)."""
    try:
        return conf.nbd.tls_dir or None
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError, AttributeError):
        return None


def remote_key(location):
    """``nbd://host:port/export`` of an nbd location, else None."""
    return payloads.nbd_uri(location) if payloads.is_nbd(location) else None


def _remote(entry):
    return 'nbd://%s:%s/%s' % (entry['host'], entry['port'], entry['export'])


def _served_socket(argv):
    """The socket a qemu-storage-daemon command line serves, or None."""
    for i, arg in enumerate(argv[:-1]):
        if arg == b'--nbd-server':
            try:
                return json.loads(argv[i + 1])['addr']['path']
            except (ValueError, KeyError, TypeError):
                return None
    return None


def _daemons(binary=BINARY):
    """``{pid: socket}`` of the qemu-storage-daemons (``binary``, by its
    base name) serving a unix socket."""
    name_of = os.path.basename(binary).encode()
    out = {}
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % name, 'rb') as f:
                argv = f.read().split(b'\0')
        except OSError:
            continue
        if os.path.basename(argv[0]) != name_of:
            continue
        sock = _served_socket(argv)
        if sock:
            out[int(name)] = sock
    return out


def _alive(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rpartition(')')[2].split()[0] != 'Z'
    except (OSError, IndexError):
        return False


class Bridges(object):
    """The bridges of one driver (``conf``: its configuration;
    ``fault``: the tests' fault hook, ``fn(name, phase)``)."""

    def __init__(self, conf, fault=None):
        self.conf = conf
        self.host_name = conf.host
        self.path = os.path.join(conf.compute.journal_path, SUBDIR)
        os.makedirs(self.path, mode=0o700, exist_ok=True)
        os.chmod(self.path, 0o700)
        self.fault = fault or (lambda name, phase: None)
        self.binary = _binary(conf)

    # -- names ------------------------------------------------------------

    def socket(self, attachment_id):
        return os.path.join(self.path, journal.check_id(attachment_id) +
                            _SOCKET)

    def local(self, attachment_id, location):
        """``(kind, path)`` of the volume ``location`` as the flows of the
        attachment use it: an nbd location is its bridge's socket."""
        if payloads.is_nbd(location):
            payloads.nbd_uri(location)          # a valid one
            return payloads.NBD, self.socket(attachment_id)
        return payloads.location_path(location)

    def entry(self, attachment_id, location):
        """What the journal records of the bridge of ``location`` for the
        attachment (None for a volume of this host)."""
        if not payloads.is_nbd(location):
            return None
        data = location['data']
        return {'socket': self.socket(attachment_id), 'host': data['host'],
                'port': data['port'], 'export': data['export'],
                'tls': data.get('tls', True) is not False}

    # -- processes --------------------------------------------------------

    def running(self, entry):
        return any(s == entry['socket'] and _alive(p)
                   for p, s in _daemons(self.binary).items())

    def start(self, entry):
        """Make the bridge ``entry`` run (connected to its export); True
        when it had to be started.  Raises ComputeError when the export
        cannot be reached or refuses this host."""
        if self.running(entry):
            return False
        sock = entry['socket']
        if len(sock) > _SOCKET_MAX:
            raise self._error(entry, 'the socket path %s is longer than %d '
                                     'characters ([compute] journal_path)'
                              % (sock, _SOCKET_MAX))
        argv = self._command(entry)
        self._remove_files(sock)
        self.fault('bridge:start', 'before')
        try:
            proc = subprocess.run(argv, stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True,
                                  timeout=START_TIMEOUT,
                                  start_new_session=True)
            error = None
            if proc.returncode:
                error = proc.stderr.strip() or 'exit status %d' % \
                    proc.returncode
        except subprocess.TimeoutExpired:
            error = 'no connection after %d s' % START_TIMEOUT
        if error is None and not self.running(entry):
            error = 'the bridge exited'
        if error is not None:
            self.stop(entry)
            if entry.get('tls', True):
                error += ' (does the export allow the certificate of this ' \
                         'host, %s/client-cert.pem?)' % tls_dir(self.conf)
            raise self._error(entry, error)
        self.fault('bridge:start', 'after')
        LOG.info('NBD bridge %s serves %s', sock, _remote(entry))
        return True

    def _command(self, entry):
        dump = json.dumps
        blockdev = {'driver': 'nbd', 'node-name': 'remote',
                    'server': {'type': 'inet', 'host': entry['host'],
                               'port': str(entry['port'])},
                    'export': entry['export']}
        argv = [self.binary]
        if entry.get('tls', True):
            argv += ['--object', dump({
                'qom-type': 'tls-creds-x509', 'id': 'tls0',
                'endpoint': 'client', 'dir': self._tls_dir(entry)})]
            blockdev['tls-creds'] = 'tls0'
        return argv + [
            '--blockdev', dump(blockdev),
            '--nbd-server', dump({'addr': {'type': 'unix',
                                           'path': entry['socket']}}),
            '--export', dump({'type': 'nbd', 'id': 'bridge',
                              'node-name': 'remote',
                              'name': images.NBD_EXPORT, 'writable': True}),
            '--daemonize', '--pidfile', self._pid_file(entry['socket'])]

    def _tls_dir(self, entry):
        path = tls_dir(self.conf)
        if not path:
            raise self._error(entry, 'no [nbd] tls_dir is set on this host '
                                     '(its x509 credentials)')
        missing = [f for f in TLS_FILES
                   if not os.path.exists(os.path.join(path, f))]
        if missing:
            raise self._error(entry, '[nbd] tls_dir %s lacks %s'
                              % (path, ', '.join(missing)))
        return path

    def _error(self, entry, reason):
        return exception.ComputeError(
            host=self.host_name,
            reason='cannot reach the NBD export %s (bridge %s): %s'
                   % (_remote(entry), entry['socket'], reason))

    def stop(self, entry):
        """Stop the bridge ``entry`` (if it runs) and remove its files."""
        sock = entry['socket']
        pids = [p for p, s in _daemons(self.binary).items() if s == sock]
        for pid in pids:
            self._kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while any(_alive(p) for p in pids):
            if time.monotonic() > deadline:
                for pid in pids:
                    self._kill(pid, signal.SIGKILL)
                break
            time.sleep(0.02)
        self._remove_files(sock)
        if pids:
            LOG.info('NBD bridge %s stopped', sock)

    @staticmethod
    def _kill(pid, sig):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass

    @staticmethod
    def _pid_file(sock):
        return sock[:-len(_SOCKET)] + _PID

    def _remove_files(self, sock):
        images.remove(sock)
        images.remove(self._pid_file(sock))

    def size(self, entry):
        return images.volume_size(payloads.NBD, entry['socket'])

    # -- what the journal wants -------------------------------------------

    @staticmethod
    def wanted(record):
        """``[(entry, want)]`` of the bridges of a journal record: want
        True (running), False (stopped) or None (left as it is: a
        switch under way starts or stops its destination's bridge)."""
        mig = record.get('migration')
        try:
            step = Step.of(mig)
        except journal.UnknownStep:
            step = None
        phase = step.phase if step is not None else None
        out = []
        if record.get('bridge'):
            out.append((record['bridge'], phase not in _SWITCHED))
        dst = mig.get('dst_bridge') if mig else None
        if dst:
            out.append((dst, True if phase in _SWITCHED else
                        None if phase is Phase.COMPLETE else False))
        return out

    def settle(self, record, strict=True):
        """Start and stop the record's bridges as its step wants them;
        ``strict``: raise the first failure (else log it)."""
        for entry, want in self.wanted(record):
            if want is None:
                continue
            try:
                if want:
                    self.start(entry)
                else:
                    self.stop(entry)
            except Exception:
                if strict:
                    raise
                LOG.warning('NBD bridge %s of attachment %s: %s failed',
                            entry['socket'], record['attachment_id'],
                            'start' if want else 'stop', exc_info=True)

    def sweep(self, records):
        """Stop every bridge of this agent that none of ``records`` (the
        whole journal) wants: what a crash left behind."""
        keep = {entry['socket'] for record in records
                for entry, want in self.wanted(record) if want is not False}
        found = {s for s in _daemons(self.binary).values()
                 if os.path.dirname(s) == self.path}
        for name in os.listdir(self.path):
            for suffix in (_SOCKET, _PID):
                if name.endswith(suffix):
                    found.add(os.path.join(self.path,
                                           name[:-len(suffix)] + _SOCKET))
        for sock in sorted(found - keep):
            LOG.info('Stopping the NBD bridge %s, which no attachment uses',
                     sock)
            self.stop({'socket': sock})

    def sockets(self):
        """The sockets of the bridges of this agent that run."""
        return sorted(s for p, s in _daemons(self.binary).items()
                      if os.path.dirname(s) == self.path and _alive(p))
