"""Bad attach and detach requests: a clear 4xx/5xx and no change."""

from migrator_api.common import states
from migrator_api.db import api as db_api
from tests.functional.api import base

UNKNOWN = '8b0b5e6c-7a11-4d6e-9d53-1f2a3b4c5d6e'


class AttachErrorsTest(base.APITestCase):

    def body(self, volume_id, instance=base.INSTANCE,
             host=base.COMPUTE_HOST, **extra):
        att = {'volume_id': volume_id, 'instance_uuid': instance,
               'host': host}
        att.update(extra)
        return {'attachment': att}

    def test_unknown_domain(self):
        vol = self.make_volume()
        self.assertRejected('post', '/v1/attachments', 404,
                            'migrator.instance_not_found',
                            [UNKNOWN, 'node1'],
                            body=self.body(vol.id, instance=UNKNOWN))

    def test_unknown_host(self):
        vol = self.make_volume()
        self.assertRejected('post', '/v1/attachments', 404,
                            'migrator.service_not_found', ['nohost'],
                            body=self.body(vol.id, host='nohost'))

    def test_host_down(self):
        vol = self.make_volume()
        self.assertRejected('post', '/v1/attachments', 503,
                            'migrator.service_unavailable', ['node9'],
                            body=self.body(vol.id,
                                           host=base.DOWN_COMPUTE_HOST))

    def test_unknown_volume(self):
        self.assertRejected('post', '/v1/attachments', 404,
                            'migrator.volume_not_found', [UNKNOWN],
                            body=self.body(UNKNOWN))

    def test_already_attached_to_that_instance(self):
        vol = self.make_volume()
        att = db_api.attachment_create(vol.id, base.INSTANCE, 'node1')
        db_api.attachment_finish(att.id, True, device='sdb')
        self.assertRejected('post', '/v1/attachments', 409,
                            'migrator.conflict',
                            ['already attached', base.INSTANCE],
                            body=self.body(vol.id))

    def test_wrong_volume_status(self):
        for status in (states.CREATING, states.ERROR, states.DELETING,
                       states.MAINTENANCE, states.ATTACHING):
            vol = self.make_volume(status=status)
            self.assertRejected('post', '/v1/attachments', 409,
                                'migrator.invalid_volume_status',
                                [status, 'available or in-use'],
                                body=self.body(vol.id))

    def test_forced_migration_refuses_attach(self):
        vol = self.make_volume()
        mig = self.make_migration(vol, force=True)
        self.assertEqual(states.MAINTENANCE, db_api.volume_get(vol.id).status)
        err = self.assertRejected('post', '/v1/attachments', 409,
                                  'migrator.invalid_volume_status',
                                  ['maintenance', mig.id],
                                  body=self.body(vol.id))
        self.assertIn('force', err['detail'])

    def test_malformed(self):
        vol = self.make_volume()
        for body, words in (
                ({'attachment': {'volume_id': vol.id}}, ['instance_uuid']),
                (self.body('not-a-uuid'), ['volume_id']),
                (self.body(vol.id, instance='x'), ['instance_uuid']),
                (self.body(vol.id, device='sdb'), ['device']),
                (self.body(vol.id, host=''), ['host']),
                ({'volume': {}}, ['attachment'])):
            self.assertRejected('post', '/v1/attachments', 400, None, words,
                                body=body)
        self.assertRejected('post', '/v1/attachments', 400, None, [],
                            body='{"attachment": ')

    def test_bad_filters(self):
        self.assertRejected('get', '/v1/attachments?volume_id=x', 400,
                            None, ['volume_id'])
        self.assertRejected('get', '/v1/attachments?host=node1', 400,
                            None, ['host'])


class DetachErrorsTest(base.APITestCase):

    def test_unknown_attachment(self):
        self.assertRejected('delete', '/v1/attachments/%s' % UNKNOWN, 404,
                            'migrator.attachment_not_found', [UNKNOWN])

    def test_not_attached_yet(self):
        vol = self.make_volume()
        att = db_api.attachment_create(vol.id, base.INSTANCE, 'node1')
        self.assertRejected('delete', '/v1/attachments/%s' % att.id, 409,
                            'migrator.invalid_volume_status',
                            ['attaching'])

    def test_forced_migration_refuses_detach(self):
        vol = self.make_volume()
        att = db_api.attachment_create(vol.id, base.INSTANCE, 'node1')
        db_api.attachment_finish(att.id, True, device='sdb')
        self.make_migration(vol, force=True)
        self.assertRejected('delete', '/v1/attachments/%s' % att.id, 409,
                            'migrator.invalid_volume_status',
                            ['maintenance'])

    def test_migrating_multiattached_volume_is_refused(self):
        vol = self.make_volume()
        for instance in (base.INSTANCE, UNKNOWN):
            att = db_api.attachment_create(vol.id, instance, 'node1')
            db_api.attachment_finish(att.id, True, device='sdb')
        self.assertRejected('post', '/v1/migrations', 409,
                            'migrator.multiattach_refused',
                            [vol.id, '2 attachments', 'multi-attached'],
                            body={'migration': {'volume_id': vol.id,
                                                'backend': 'block1'}})
