"""Attaching volumes to instances and detaching them, through the
compute agent of the instance's host."""

from oslo_config import cfg
from oslo_log import log as logging

from migrator_api.common import context as mcontext
from migrator_api.common import exception
from migrator_api.common import states
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
        info = compute_rpc().attach_volume(ctxt, att.host,
                                           att.instance_uuid, att.id,
                                           volume.location)
    except Exception as exc:
        LOG.exception('Attaching volume %s to instance %s failed',
                      volume.id, att.instance_uuid)
        db_api.attachment_finish(att.id, True, exception.describe(exc))
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
    db_api.attachment_finish(att.id, False)
    LOG.info('Volume %s detached from instance %s', att.volume_id,
             att.instance_uuid)
