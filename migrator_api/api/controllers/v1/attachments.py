"""/v1/attachments: attach a volume to an instance, detach it.

An attach is checked at once (the volume, the compute host's agent, the
instance on that host) and then made by the compute agent; the volume
is ``in-use`` once it is attached.  Attaching or detaching a volume
whose migration was started without force aborts that migration first;
with force (volume in ``maintenance``) the request is refused (409).
"""

import pecan

from migrator_api.api.controllers import base
from migrator_api.api.controllers.v1 import utils
from migrator_api.api.schemas import attachments as schema
from migrator_api.api import validation
from migrator_api.conductor import api as conductor_api
from migrator_api.db import api as db_api
from migrator_api import policy


def attachment_view(attachment):
    return {
        'id': attachment.id,
        'volume_id': attachment.volume_id,
        'instance_uuid': attachment.instance_uuid,
        'host': attachment.host,
        'status': attachment.status,
        'device': attachment.device,
        'error': attachment.error,
        'created_at': utils.isotime(attachment.created_at),
        'updated_at': utils.isotime(attachment.updated_at),
        'links': [utils.self_link('v1', 'attachments', attachment.id)],
    }


class AttachmentController(base.Controller):

    def __init__(self, attachment_id):
        self.attachment_id = attachment_id

    @pecan.expose(generic=True, template='json')
    def index(self, **kw):
        utils.method_not_allowed(AttachmentController.index)

    @index.when(method='GET', template='json')
    def get(self, **kw):
        policy.authorize(utils.context(), 'migrator:attachment:show')
        validation.query(pecan.request, validation.NO_QUERY)
        return {'attachment': attachment_view(
            db_api.attachment_get(self.attachment_id))}

    @index.when(method='DELETE', template='json')
    def delete(self, **kw):
        ctxt = utils.context()
        policy.authorize(ctxt, 'migrator:attachment:delete')
        validation.query(pecan.request, validation.NO_QUERY)
        conductor_api.detach_volume(ctxt, self.attachment_id)
        return utils.accepted()


class AttachmentsController(base.Controller):
    item_param = 'attachment_id'

    @pecan.expose(generic=True, template='json')
    def index(self, **kw):
        utils.method_not_allowed(AttachmentsController.index)

    @index.when(method='GET', template='json')
    def get_all(self, **kw):
        policy.authorize(utils.context(), 'migrator:attachment:list')
        params = validation.query(pecan.request, schema.list_query)
        rows = db_api.attachment_get_all(
            volume_id=params.get('volume_id'),
            instance_uuid=params.get('instance_uuid'))
        return {'attachments': [attachment_view(a) for a in rows]}

    @index.when(method='POST', template='json')
    def post(self, **kw):
        ctxt = utils.context()
        policy.authorize(ctxt, 'migrator:attachment:create')
        body = validation.body(pecan.request, schema.create)['attachment']
        attachment = conductor_api.attach_volume(
            ctxt, body['volume_id'], body['instance_uuid'], body['host'])
        pecan.response.status = 202
        return {'attachment': attachment_view(attachment)}

    def _item(self, attachment_id):
        return AttachmentController(attachment_id)
