"""Attaching volumes to instances and detaching them, through the
compute agent of the instance's host.

A volume of another host than the instance's is given to the compute
agent as an NBD export of it to the instance's host (writable), made
before the attach and kept while the volume is attached there: it is
closed once the last attachment of the volume on that host is
detached (or its attach failed).  After a migration the volume lives
on the destination, whose export to the compute host the switch made
(conductor.migrate): the same export the attachment would have made.
"""

from oslo_config import cfg
from oslo_log import log as logging

from migrator_api.common import context as mcontext
from migrator_api.common import exception
from migrator_api.common import states
from migrator_api.conductor import volumes
from migrator_api.db import api as db_api
from migrator_api.rpcapi import compute as compute_rpcapi

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


def compute_rpc():
    return compute_rpcapi.ComputeAPI(timeout=CONF.conductor.rpc_call_timeout)


def attach(attachment_id):
    ctxt = mcontext.get_admin_context()
    att = db_api.attachment_get(attachment_id)
    if att.status != states.A_ATTACHING:
        return
    volume = db_api.volume_get(att.volume_id)
    try:
        connection_info = volumes.reach(ctxt, volume.backend, volume,
                                        att.host, writable=True)
        info = compute_rpc().attach_volume(ctxt, att.host,
                                           att.instance_uuid, att.id,
                                           connection_info)
    except Exception as exc:
        LOG.exception('Attaching volume %s to instance %s failed',
                      volume.id, att.instance_uuid)
        db_api.attachment_finish(att.id, True, exception.describe(exc))
        try:
            _close_export(ctxt, att)
        except Exception:
            LOG.exception('Closing the export of volume %s to host %s '
                          'failed (a later detach from that host or the '
                          'deletion of the volume closes it)', volume.id,
                          att.host)
        return
    db_api.attachment_finish(att.id, True, device=(info or {}).get('target'))
    LOG.info('Volume %s attached to instance %s on %s as %s', volume.id,
             att.instance_uuid, att.host, (info or {}).get('target'))


def detach(attachment_id):
    ctxt = mcontext.get_admin_context()
    try:
        att = db_api.attachment_get(attachment_id)
    except exception.AttachmentNotFound:
        return
    if att.status != states.A_DETACHING:
        return
    try:
        compute_rpc().detach_volume(ctxt, att.host, att.instance_uuid,
                                    att.id)
    except exception.AttachmentNotFound:
        pass  # the agent no longer has it: detached already
    except Exception as exc:
        LOG.exception('Detaching volume %s from instance %s failed',
                      att.volume_id, att.instance_uuid)
        db_api.attachment_finish(att.id, False, exception.describe(exc))
        return
    try:
        _close_export(ctxt, att)
    except Exception as exc:
        # Detached from the guest: a detach asked again closes it.
        LOG.exception('Closing the export of volume %s to host %s failed',
                      att.volume_id, att.host)
        db_api.attachment_finish(att.id, False, exception.describe(exc))
        return
    db_api.attachment_finish(att.id, False)
    LOG.info('Volume %s detached from instance %s', att.volume_id,
             att.instance_uuid)


def _close_export(ctxt, att):
    """Close the export of the volume to the attachment's host unless
    another attachment there still uses it."""
    others = [a for a in db_api.attachment_get_all(volume_id=att.volume_id)
              if a.id != att.id and a.host == att.host]
    if not others:
        volume = db_api.volume_get(att.volume_id)
        volumes.close_export(ctxt, volume.backend, volume, att.host,
                             writable=True)
