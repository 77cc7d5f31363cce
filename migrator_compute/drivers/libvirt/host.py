"""The connection to libvirtd, and libvirt's event loop thread.

libvirt's default event loop runs in one native daemon thread for the
whole process (it can only be registered once).  It delivers keepalive
traffic, the connection-closed callback, block job events, which
wake the threads waiting for a job to become ready, and domain
lifecycle events, handed to listeners (which must not block).

A lost connection (libvirtd restarted) is detected by the close
callback, keepalive, or the error of a call; the next ``get()``
reconnects, retrying for ``reconnect_timeout`` seconds.  Idempotent
reads go through ``retry()``, which rides out a restart.
"""

import collections
import threading
import time

import libvirt
from oslo_log import log as logging

from migrator_api.common import exception
from migrator_api.common import threads

LOG = logging.getLogger(__name__)

_LOOP_LOCK = threading.Lock()
_LOOP_THREAD = None

CONNECTION_ERRORS = frozenset(
    getattr(libvirt, name) for name in (
        'VIR_ERR_SYSTEM_ERROR', 'VIR_ERR_RPC', 'VIR_ERR_NO_CONNECT',
        'VIR_ERR_INVALID_CONN', 'VIR_ERR_AUTH_FAILED',
        'VIR_ERR_AUTH_UNAVAILABLE') if hasattr(libvirt, name))


def _quiet_error_handler(ctx, error):
    # libvirt prints every error to stderr by default; they reach us as
    # exceptions anyway.
    pass


def _run_loop():
    while True:
        try:
            libvirt.virEventRunDefaultImpl()
        except Exception:  # pragma: no cover - keep the loop alive
            LOG.exception('libvirt event loop iteration failed')
            time.sleep(0.1)


def start_event_loop():
    """Register and run libvirt's default event loop (once per process);
    must happen before the first connection is opened."""
    global _LOOP_THREAD
    with _LOOP_LOCK:
        if _LOOP_THREAD is None:
            libvirt.registerErrorHandler(_quiet_error_handler, None)
            libvirt.virEventRegisterDefaultImpl()
            _LOOP_THREAD = threads.spawn('libvirt-event-loop', _run_loop)


def is_connection_error(exc):
    return (isinstance(exc, libvirt.libvirtError) and
            exc.get_error_code() in CONNECTION_ERRORS)


#: libvirt's domain states as the agent reports them.
POWER_STATES = {
    libvirt.VIR_DOMAIN_NOSTATE: 'nostate',
    libvirt.VIR_DOMAIN_RUNNING: 'running',
    libvirt.VIR_DOMAIN_BLOCKED: 'running',
    libvirt.VIR_DOMAIN_PAUSED: 'paused',
    libvirt.VIR_DOMAIN_SHUTDOWN: 'shutdown',
    libvirt.VIR_DOMAIN_SHUTOFF: 'shutoff',
    libvirt.VIR_DOMAIN_CRASHED: 'crashed',
    libvirt.VIR_DOMAIN_PMSUSPENDED: 'suspended',
}

# lookupByUUIDString: no such domain, or not a UUID at all.
_NO_DOMAIN = (libvirt.VIR_ERR_NO_DOMAIN, libvirt.VIR_ERR_INVALID_ARG)


def error_code(exc):
    if isinstance(exc, libvirt.libvirtError):
        return exc.get_error_code()
    return None


class Host(object):
    """One libvirt connection, reconnected on demand."""

    def __init__(self, uri, reconnect_timeout=120):
        self.uri = uri
        self.reconnect_timeout = reconnect_timeout
        self._conn = None
        self._callbacks = []
        self._lock = threading.Lock()
        self._cond = threading.Condition()
        self._job_events = collections.defaultdict(list)
        self._lifecycle_listeners = []
        self._closed = False
        start_event_loop()

    # -- connection -------------------------------------------------------

    def get(self):
        """A live connection (reconnecting if needed)."""
        with self._lock:
            conn = self._conn
            if conn is not None:
                try:
                    if conn.isAlive():
                        return conn
                except libvirt.libvirtError:
                    pass
                LOG.warning('Connection to %s lost; reconnecting', self.uri)
                self._drop(conn)
            if self._closed:
                raise exception.ServiceUnavailable(service='libvirt',
                                                   reason='host closed')
            self._conn = self._connect()
            return self._conn

    def _connect(self):
        deadline = time.monotonic() + self.reconnect_timeout
        delay = 0.05
        while True:
            try:
                conn = libvirt.open(self.uri)
                break
            except libvirt.libvirtError as e:
                if time.monotonic() > deadline:
                    raise exception.ServiceUnavailable(service='libvirt',
                                                       reason=str(e))
                LOG.info('libvirt at %s not answering (%s); retrying',
                         self.uri, e)
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
        try:
            conn.setKeepAlive(5, 3)
        except libvirt.libvirtError:
            LOG.debug('keepalive not supported', exc_info=True)
        conn.registerCloseCallback(self._on_close, None)
        self._callbacks = [
            conn.domainEventRegisterAny(
                None, libvirt.VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2,
                self._on_block_job, None),
            conn.domainEventRegisterAny(
                None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                self._on_lifecycle, None)]
        with self._cond:
            self._cond.notify_all()
        LOG.debug('Connected to %s', self.uri)
        return conn

    def _drop(self, conn):
        for cb in self._callbacks:
            try:
                conn.domainEventDeregisterAny(cb)
            except libvirt.libvirtError:
                pass
        self._callbacks = []
        try:
            conn.unregisterCloseCallback()
        except libvirt.libvirtError:
            pass
        try:
            conn.close()
        except libvirt.libvirtError:
            pass
        if self._conn is conn:
            self._conn = None

    def _on_close(self, conn, reason, opaque):
        LOG.warning('libvirt connection closed (reason %s)', reason)
        with self._cond:
            self._cond.notify_all()

    def close(self):
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._drop(self._conn)

    def retry(self, fn, what='libvirt call'):
        """``fn(conn)``, repeated across a lost connection.  Only for
        calls that are safe to repeat."""
        deadline = time.monotonic() + self.reconnect_timeout
        while True:
            try:
                return fn(self.get())
            except libvirt.libvirtError as e:
                if not is_connection_error(e) or time.monotonic() > deadline:
                    raise
                LOG.info('%s failed on a lost connection (%s); retrying',
                         what, e)
                time.sleep(0.2)

    # -- domains ----------------------------------------------------------

    def domain(self, instance_uuid, conn=None):
        """The domain whose UUID is ``instance_uuid``."""
        conn = conn or self.get()
        try:
            return conn.lookupByUUIDString(instance_uuid)
        except libvirt.libvirtError as e:
            if e.get_error_code() in _NO_DOMAIN:
                raise exception.InstanceNotFound(
                    message='Instance %s is not defined on this host.'
                            % instance_uuid, instance=instance_uuid)
            raise

    def find_domain(self, instance_uuid):
        """Like ``domain`` but None when absent; rides out a restart."""
        def lookup(conn):
            try:
                return conn.lookupByUUIDString(instance_uuid)
            except libvirt.libvirtError as e:
                if e.get_error_code() in _NO_DOMAIN:
                    return None
                raise
        return self.retry(lookup, 'domain lookup')

    def domain_info(self, instance_uuid):
        """``{'uuid', 'name', 'power_state'}`` or None when absent."""
        def query(conn):
            try:
                dom = conn.lookupByUUIDString(instance_uuid)
                state = dom.state()[0]
                return {'uuid': dom.UUIDString(), 'name': dom.name(),
                        'power_state': POWER_STATES.get(state, 'nostate')}
            except libvirt.libvirtError as e:
                if e.get_error_code() in _NO_DOMAIN:
                    return None
                raise
        return self.retry(query, 'domain state')

    def all_domains(self):
        return self.retry(lambda c: c.listAllDomains(0), 'list domains')

    # -- lifecycle events -------------------------------------------------

    def add_lifecycle_listener(self, fn):
        """Call ``fn(instance_uuid, event, detail)`` for every lifecycle
        event, in the event loop thread (while connected)."""
        self._lifecycle_listeners.append(fn)

    def _on_lifecycle(self, conn, dom, event, detail, opaque):
        uuid = dom.UUIDString()
        LOG.debug('Lifecycle event of %s: %s/%s', uuid, event, detail)
        for fn in list(self._lifecycle_listeners):
            try:
                fn(uuid, event, detail)
            except Exception:
                LOG.exception('Lifecycle listener %s failed', fn)

    # -- block job events -------------------------------------------------

    def _on_block_job(self, conn, dom, disk, job_type, status, opaque):
        key = (dom.UUIDString(), disk)
        LOG.debug('Block job event %s: type %s status %s', key, job_type,
                  status)
        with self._cond:
            self._job_events[key].append((job_type, status))
            self._cond.notify_all()

    def clear_job_events(self, instance_uuid, target):
        with self._cond:
            self._job_events.pop((instance_uuid, target), None)

    def job_events(self, instance_uuid, target):
        with self._cond:
            return list(self._job_events.get((instance_uuid, target), ()))

    def wait_event(self, timeout):
        """Sleep until any event arrives or ``timeout`` seconds."""
        with self._cond:
            self._cond.wait(timeout)
