"""Block job helpers: start, wait for READY, pivot, abort.

Readiness comes from two sources: ``VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2``
READY events (delivered by the event loop thread) and polling
``blockJobInfo`` (cur == end), which also covers events lost while
libvirtd restarted.  A pivot that libvirt answers with "not ready" is
simply retried.  Every query rides out a lost connection; the pivot,
which is not safe to repeat blindly, is verified against the live XML
when the connection broke under it.
"""

import time

import libvirt
from oslo_log import log as logging

from migrator_api.common import exception
from migrator_compute.drivers import base
from migrator_compute.drivers.libvirt import guest
from migrator_compute.drivers.libvirt import host as host_mod

LOG = logging.getLogger(__name__)

COPY = libvirt.VIR_DOMAIN_BLOCK_JOB_TYPE_COPY
ACTIVE_COMMIT = libvirt.VIR_DOMAIN_BLOCK_JOB_TYPE_ACTIVE_COMMIT
READY = libvirt.VIR_DOMAIN_BLOCK_JOB_READY
FAILED = libvirt.VIR_DOMAIN_BLOCK_JOB_FAILED
CANCELED = libvirt.VIR_DOMAIN_BLOCK_JOB_CANCELED

COPY_FLAGS = (libvirt.VIR_DOMAIN_BLOCK_COPY_SHALLOW |
              libvirt.VIR_DOMAIN_BLOCK_COPY_REUSE_EXT |
              libvirt.VIR_DOMAIN_BLOCK_COPY_TRANSIENT_JOB)
SNAPSHOT_FLAGS = (libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY |
                  libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA |
                  libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_REUSE_EXT |
                  libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC)
NOT_READY = getattr(libvirt, 'VIR_ERR_BLOCK_COPY_ACTIVE', 83)


class BlockJobError(exception.ComputeError):
    msg_fmt = 'Block job on %(target)s of %(instance)s failed: %(reason)s'


def job_info(host, instance_uuid, target):
    """The running job on ``target`` (``{'type', 'cur', 'end', ...}``)
    or ``{}``."""
    def query(conn):
        dom = host.domain(instance_uuid, conn)
        return dom.blockJobInfo(target, 0) or {}
    return host.retry(query, 'blockJobInfo')


def live_root(host, instance_uuid):
    """The live XML of the running domain, or None when it is not
    running (or gone)."""
    return _root(host, instance_uuid, live=True)


def persistent_root(host, instance_uuid):
    """The persistent XML of the domain, or None when it has none (a
    transient domain) or is gone."""
    return _root(host, instance_uuid, live=False)


def _root(host, instance_uuid, live):
    def query(conn):
        try:
            dom = conn.lookupByUUIDString(instance_uuid)
        except libvirt.libvirtError as e:
            if e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return None
            raise
        if live:
            return guest.parse(guest.live_xml(dom)) if dom.isActive() \
                else None
        return guest.parse(guest.persistent_xml(dom)) \
            if dom.isPersistent() else None
    return host.retry(query, 'domain XML' if live else 'persistent XML')


def live_top(host, instance_uuid, target):
    root = live_root(host, instance_uuid)
    return guest.top_path(root, target) if root is not None else None


def start_copy(host, instance_uuid, target, overlay2):
    host.clear_job_events(instance_uuid, target)
    dom = host.domain(instance_uuid)
    dom.blockCopy(target, guest.copy_dest_xml(overlay2), None, COPY_FLAGS)


def start_active_commit(host, instance_uuid, target):
    host.clear_job_events(instance_uuid, target)
    dom = host.domain(instance_uuid)
    dom.blockCommit(target, None, None, 0,
                    libvirt.VIR_DOMAIN_BLOCK_COMMIT_ACTIVE)


def wait_ready(host, instance_uuid, target, timeout, job_type=None):
    """Wait until the job on ``target`` may pivot."""
    deadline = time.monotonic() + timeout
    while True:
        info = job_info(host, instance_uuid, target)
        statuses = [s for _t, s in host.job_events(instance_uuid, target)]
        if FAILED in statuses or CANCELED in statuses:
            raise BlockJobError(target=target, instance=instance_uuid,
                                reason='libvirt reported the job %s' %
                                ('failed' if FAILED in statuses
                                 else 'cancelled'))
        if not info:
            raise BlockJobError(target=target, instance=instance_uuid,
                                reason='the job ended before it was ready')
        if job_type is not None and info.get('type') != job_type:
            raise BlockJobError(target=target, instance=instance_uuid,
                                reason='unexpected job type %s running'
                                       % info.get('type'))
        if READY in statuses or (info['end'] and
                                 info['cur'] == info['end']):
            return info
        if time.monotonic() > deadline:
            raise BlockJobError(target=target, instance=instance_uuid,
                                reason='not ready after %ss (%s/%s)' %
                                (timeout, info['cur'], info['end']))
        host.wait_event(0.05)


def pivot(host, instance_uuid, target, expect_top, timeout):
    """Pivot the ready job on ``target`` so that ``expect_top`` becomes
    the disk's top image.  Returns the seconds the pivot call took."""
    deadline = time.monotonic() + timeout
    while True:
        t0 = time.monotonic()
        try:
            dom = host.domain(instance_uuid)
            dom.blockJobAbort(target,
                              libvirt.VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT)
            took = time.monotonic() - t0
            break
        except libvirt.libvirtError as e:
            if host_mod.is_connection_error(e):
                # Did it happen before the connection broke?
                if _top_is(host, instance_uuid, target, expect_top):
                    return time.monotonic() - t0
                if not job_info(host, instance_uuid, target):
                    raise BlockJobError(target=target,
                                        instance=instance_uuid,
                                        reason='job vanished during pivot')
                continue
            if e.get_error_code() == NOT_READY and \
                    time.monotonic() < deadline:
                host.wait_event(0.02)
                continue
            raise
    if not _top_is(host, instance_uuid, target, expect_top):
        raise BlockJobError(target=target, instance=instance_uuid,
                            reason='after the pivot the disk is on %s, '
                                   'not %s' % (live_top(host, instance_uuid,
                                                        target), expect_top))
    return took


def _top_is(host, instance_uuid, target, path):
    top = live_top(host, instance_uuid, target)
    return top is not None and base.same_path(top, path)


def abort(host, instance_uuid, target):
    """Cancel whatever job runs on ``target``, without pivoting; waits
    until it is gone."""
    if not job_info(host, instance_uuid, target):
        return
    LOG.info('Aborting block job on %s of %s', target, instance_uuid)
    try:
        host.domain(instance_uuid).blockJobAbort(target, 0)
    except libvirt.libvirtError as e:
        if not host_mod.is_connection_error(e) and \
                job_info(host, instance_uuid, target):
            raise
    deadline = time.monotonic() + 60
    while job_info(host, instance_uuid, target):
        if time.monotonic() > deadline:
            raise BlockJobError(target=target, instance=instance_uuid,
                                reason='job did not go away on abort')
        host.wait_event(0.05)
