"""What every flow of one libvirt driver works with.

A ``Context`` holds the driver's shared state: the libvirt ``Host``
connection, the ``Journal``, the NBD ``Bridges`` (volumes of other
hosts), the overlay directory, the timeouts, the
per-attachment and per-domain locks, the timings and the fault hook of
the tests; and the few journal and domain operations every flow takes
(record a step, read a domain's XML, rewrite one disk of its
persistent definition).  The flows, the domain lock, recovery and the
driver each receive the one context of their driver.
"""

import collections
import os
import threading

import libvirt
from oslo_log import log as logging

from migrator_api.common import exception
from migrator_compute.drivers import base
from migrator_compute.drivers.libvirt import blockjob
from migrator_compute.drivers.libvirt import bridges as bridges_mod
from migrator_compute.drivers.libvirt import guest
from migrator_compute.drivers.libvirt import host as host_mod
from migrator_compute.drivers.libvirt import images
from migrator_compute.drivers.libvirt import overlays
from migrator_compute import journal

LOG = logging.getLogger(__name__)

#: One lock per domain for the whole process, held while a domain's
#: definition is read and changed, and by the pivots: every driver on
#: the host (tests run several at once) takes the same.
_DOM_LOCKS = collections.defaultdict(threading.RLock)
_DOM_GUARD = threading.Lock()


def same(a, b):
    """Whether the paths ``a`` and ``b`` (either may be None) name the
    same file."""
    return bool(a) and bool(b) and base.same_path(a, b)


def alone_on(chain, path):
    """Whether the image chain ``chain`` is ``path`` alone."""
    return len(chain or ()) == 1 and same(chain[0], path)


class Flow(object):
    """The steps one kind of migration takes, with the Context and the
    DomainLock (``lock.py``) of their driver."""

    def __init__(self, ctx, lock):
        self.ctx = ctx
        self.lock = lock


class Context(object):
    """The shared state of one driver (``host``: a libvirt Host, made
    from ``[compute]`` when not given)."""

    def __init__(self, conf, host=None):
        c = conf.compute
        self.host_name = conf.host
        self.host = host or host_mod.Host(c.libvirt_uri,
                                          c.libvirt_reconnect_timeout)
        self.journal = journal.Journal(c.journal_path)
        self.bridges = bridges_mod.Bridges(conf, fault=self._fault)
        self.overlay_path = c.overlay_path
        os.makedirs(self.overlay_path, mode=0o700, exist_ok=True)
        self.limits = overlays.Limits.from_conf(c)
        self.job_timeout = c.block_job_timeout
        self.detach_timeout = c.device_detach_timeout
        #: ``{attachment_id: {'freeze': s, 'switch': s, ...}}``
        self.timings = {}
        #: Tests set this to ``fn(step, phase)`` to simulate a crash
        #: ('before-journal' / 'after-journal' of each step).
        self.fault_hook = None
        self._guard = threading.Lock()
        self._att_locks = collections.defaultdict(threading.RLock)

    # -- locks --------------------------------------------------------------

    def attachment_lock(self, attachment_id):
        """Held by every call and background step on the attachment."""
        with self._guard:
            return self._att_locks[attachment_id]

    @staticmethod
    def domain_lock(instance_uuid):
        with _DOM_GUARD:
            return _DOM_LOCKS[instance_uuid]

    # -- the journal ----------------------------------------------------

    def record(self, instance_uuid, attachment_id):
        """The journal record of an attachment of the instance."""
        record = self.journal.load(attachment_id)
        if record is None or record['instance_uuid'] != instance_uuid:
            raise exception.AttachmentNotFound(attachment_id=attachment_id)
        return record

    def step(self, record, step, **fields):
        """Durably record that ``step`` is about to be taken."""
        self._fault(step, 'before-journal')
        self.journal.set_step(record, step, **fields)
        LOG.debug('Attachment %s: step %s', record['attachment_id'], step)
        self._fault(step, 'after-journal')

    def _fault(self, step, phase):
        if self.fault_hook is not None:
            self.fault_hook(step, phase)

    def connect_destination(self, record):
        """The first thing a switch does once the journal names the
        destination: start its bridge (an nbd destination) and check
        what it serves is large enough.  Raises InvalidInput."""
        mig = record['migration']
        entry = mig.get('dst_bridge')
        if not entry:
            return
        self.bridges.start(entry)
        size = self.bridges.size(entry)
        need = mig.get('size') or images.volume_size(mig['source_kind'],
                                                     mig['source'])
        if size < need:
            raise exception.InvalidInput(
                reason='destination %s holds %d bytes, the source %d'
                       % (bridges_mod.remote_key(mig['dst_connection_info']),
                          size, need))

    def timing(self, record, name, seconds):
        self.timings.setdefault(record['attachment_id'], {})[name] = seconds
        LOG.info('Attachment %s of %s: %s took %.3f s',
                 record['attachment_id'], record['instance_uuid'], name,
                 seconds)

    def overlay_file(self, record, name):
        return os.path.join(self.overlay_path, '%s.%s.qcow2' % (
            record['attachment_id'], name))

    def lock_file(self, record):
        """The path that never exists, named by a locked definition."""
        return os.path.join(self.overlay_path, guest.LOCK_PREFIX +
                            record['attachment_id'])

    def error(self, reason):
        return exception.ComputeError(host=self.host_name, reason=reason)

    # -- the domain -----------------------------------------------------

    def is_active(self, instance_uuid):
        """Whether the domain runs; None when there is no such domain."""
        def query(conn):
            try:
                return bool(conn.lookupByUUIDString(instance_uuid).isActive())
            except libvirt.libvirtError as e:
                if e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                    return None
                raise
        return self.host.retry(query, 'domain state')

    def live_root(self, instance_uuid):
        return blockjob.live_root(self.host, instance_uuid)

    def live_chain(self, record):
        """The image paths the running domain's disk uses, top first."""
        root = self.live_root(record['instance_uuid'])
        return guest.chain_paths(root, record['target']) \
            if root is not None else []

    def live_top(self, record):
        return blockjob.live_top(self.host, record['instance_uuid'],
                                 record['target'])

    def persistent_root(self, instance_uuid):
        return blockjob.persistent_root(self.host, instance_uuid)

    def define_disk(self, record, disk_elem):
        """Rewrite the persistent definition of the record's disk; False
        when the domain has no definition of that disk."""
        uuid = record['instance_uuid']
        with self.domain_lock(uuid):
            dom = self.host.find_domain(uuid)
            if dom is None or not dom.isPersistent():
                return False
            xml = guest.persistent_xml(dom)
            if guest.find_disk(guest.parse(xml), record['target']) is None:
                return False
            self.host.get().defineXML(
                guest.replace_disk(xml, record['target'], disk_elem))
            return True

    def source_disk(self, record, root, src, where, raw_only=False):
        """The record's disk in ``root`` (the domain's ``where`` XML),
        which must use the volume ``src`` alone (a raw image when
        ``raw_only``): the disk a migration starts from.  Raises
        InstanceNotFreezable."""
        uuid, target = record['instance_uuid'], record['target']
        disk = guest.find_disk(root, target) if root is not None else None
        if disk is None:
            raise exception.InstanceNotFreezable(
                instance=uuid, reason='disk %s is not in the %s'
                                      % (target, where))
        chain = guest.disk_chain(disk)
        if len(chain) != 1 or not same(chain[0][1], src) or \
                (raw_only and chain[0][2] not in (None, 'raw')):
            raise exception.InstanceNotFreezable(
                instance=uuid, reason='disk %s of the %s is not the %s'
                                      'volume %s alone (chain %s)'
                % (target, where, 'raw ' if raw_only else '', src, chain))
        return disk

    @staticmethod
    def saved_disk(record, kind, path):
        """The persistent disk element as saved at start, pointed at
        ``path`` (a raw volume); None when there was none."""
        xml = record['migration'].get('persistent_disk')
        if not xml:
            return None
        return guest.set_source(guest.parse(xml), kind, path, 'raw')
