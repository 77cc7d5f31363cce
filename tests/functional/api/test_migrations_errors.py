"""Bad requests to /v1/migrations: a 4xx, a useful detail, nothing changed."""

from migrator_api.common import states
from migrator_api.db import api as db_api
from migrator_api.db import models
from tests.functional.api import base

BAD = 'migrator.invalid_input'
UNKNOWN_ID = '8b0b5e6c-7a11-4d6e-9d53-1f2a3b4c5d6e'


class CreateMigrationErrorsTest(base.APITestCase):

    def setUp(self):
        super().setUp()
        self.vol = self.make_volume()

    def post(self, status, body, detail=(), code=BAD, **kwargs):
        return self.assertRejected('post', '/v1/migrations', status, code,
                                   detail, body=body, **kwargs)

    def mig(self, **fields):
        body = {'volume_id': self.vol.id, 'backend': 'block1'}
        body.update(fields)
        return {'migration': {k: v for k, v in body.items()
                              if v is not None}}

    def test_malformed_json(self):
        self.post(400, b'{"migration": ', 'not valid JSON')

    def test_not_json(self):
        self.post(415, b'volume_id=x', 'must be JSON',
                  code='migrator.unsupported_media_type',
                  content_type='text/plain')

    def test_missing_envelope(self):
        self.post(400, {'volume_id': self.vol.id, 'backend': 'block1'},
                  "'migration' is a required property")

    def test_missing_volume_id(self):
        self.post(400, self.mig(volume_id=None),
                  "field migration: 'volume_id' is a required property")

    def test_missing_backend(self):
        self.post(400, self.mig(backend=None),
                  "field migration: 'backend' is a required property")

    def test_extra_field(self):
        self.post(400, self.mig(wait=True), "'wait' was unexpected")

    def test_volume_id_not_a_uuid(self):
        self.post(400, self.mig(volume_id='vol-1'),
                  "field migration.volume_id: 'vol-1' is not a 'uuid'")

    def test_volume_id_wrong_type(self):
        self.post(400, self.mig(volume_id=7),
                  "field migration.volume_id: 7 is not of type 'string'")

    def test_backend_wrong_type(self):
        self.post(400, self.mig(backend=['block1']),
                  'field migration.backend')

    def test_force_not_boolean(self):
        self.post(400, self.mig(force='yes'),
                  "field migration.force: 'yes' is not of type 'boolean'")

    def test_force_as_integer(self):
        self.post(400, self.mig(force=1), 'field migration.force')

    def test_unknown_volume(self):
        self.post(404, self.mig(volume_id=UNKNOWN_ID), UNKNOWN_ID,
                  code='migrator.volume_not_found')

    def test_hidden_volume(self):
        hidden = self.make_volume(hidden=True)
        self.post(404, self.mig(volume_id=hidden.id), hidden.id,
                  code='migrator.volume_not_found')

    def test_unknown_backend(self):
        self.post(404, self.mig(backend='nope'), 'Backend nope',
                  code='migrator.backend_not_found')

    def test_same_backend(self):
        self.post(409, self.mig(backend='file1'),
                  'is already on backend file1', code='migrator.same_backend')

    def test_already_migrating(self):
        running = self.make_migration(self.vol)
        self.post(409, self.mig(backend='block1'),
                  ['is being migrated', running.id],
                  code='migrator.volume_migrating')

    def test_status_forbids_migration(self):
        for status in (states.CREATING, states.ERROR, states.MAINTENANCE,
                       states.ATTACHING, states.DELETING):
            db_api.volume_update(self.vol.id, {'status': status})
            self.post(409, self.mig(),
                      ['is %s' % status, 'available or in-use'],
                      code='migrator.invalid_volume_status')

    def test_destination_down(self):
        db_api.backend_sync('node3', [{'name': 'dead',
                                       'backend_type': 'file'}])
        self.post(409, self.mig(backend='dead'), 'node3 is down',
                  code='migrator.backend_unavailable')

    def test_source_down(self):
        db_api.backend_sync('node3', [{'name': 'dead',
                                       'backend_type': 'file'}])
        self.vol = self.make_volume(backend='dead')
        self.post(409, self.mig(backend='file1'),
                  'Backend dead is not available',
                  code='migrator.backend_unavailable')

    def test_no_data_path_between_hosts(self):
        # remote1's worker is on node2; the copy would run there and
        # could not read file1 (node1).  Refused before anything exists.
        before = self.db_state()
        self.post(409, self.mig(backend='remote1'),
                  ['remote1 (host node2) cannot reach backend file1 (host '
                   'node1)', 'no data path'], code='migrator.no_data_path')
        self.assertEqual(before, self.db_state())
        self.assertEqual([], self.casts())

    def test_no_data_path_when_one_host_has_no_nbd(self):
        # Only node1's worker serves and reads NBD exports: still no way
        # for node2's worker to read file1.
        self.sync_nbd('node1', True)
        self.post(409, self.mig(backend='remote1'),
                  ['remote1 (host node2) cannot reach backend file1 (host '
                   'node1)', 'no data path'], code='migrator.no_data_path')
        self.assertEqual([], self.casts())

    def test_data_path_over_nbd_between_hosts(self):
        self.sync_nbd('node1', True)
        self.sync_nbd('node2', True)
        resp = self.app.post_json('/v1/migrations', self.mig(
            backend='remote1'), status=202)
        self.assertEqual('remote1', resp.json['migration']['dest_backend'])
        self.assertEqual(['start_migration'],
                         [method for method, _args in self.casts()])

    def test_guest_must_reach_its_volume(self):
        # file1 and block1 share node1's worker (the copy is local), but
        # the instance runs on node3 and node1 exports nothing.
        db_api.service_report('node3', states.BINARY_COMPUTE)
        db_api.attachment_create(self.vol.id, base.INSTANCE, 'node3')
        db_api.volume_update(self.vol.id, {'status': states.IN_USE})
        with db_api.writer() as session:
            session.query(models.Attachment).update(
                {'status': states.A_ATTACHED})
        self.post(409, self.mig(backend='block1'),
                  ['compute host node3', 'cannot reach backend file1 '
                   '(host node1)', 'no data path'],
                  code='migrator.no_data_path')
        self.sync_nbd('node1', True)
        self.app.post_json('/v1/migrations', self.mig(backend='block1'),
                           status=202)

    def sync_nbd(self, host, enabled):
        reports = [dict(r, capabilities=dict(r['capabilities'],
                                             nbd=enabled))
                   for r in base.BACKENDS[host]]
        db_api.backend_sync(host, reports)

    def test_insufficient_capacity(self):
        self.vol = self.make_volume(size=8 * base.GIB)
        self.post(409, self.mig(backend='block1'), 'cannot hold',
                  code='migrator.insufficient_capacity')

    def test_wrong_method(self):
        self.assertRejected('put', '/v1/migrations', 405,
                            'migrator.method_not_allowed',
                            'allowed: GET, POST', body=self.mig())


class ListShowMigrationErrorsTest(base.APITestCase):

    def get(self, path, status, detail, code=BAD):
        return self.assertRejected('get', path, status, code, detail)

    def test_list_unknown_parameter(self):
        self.get('/v1/migrations?backend=file1', 400,
                 "unknown query parameter 'backend'")

    def test_list_bad_status(self):
        self.get('/v1/migrations?status=running', 400,
                 "query parameter status: 'running' is not one of")

    def test_list_bad_phase(self):
        self.get('/v1/migrations?phase=x', 400, 'query parameter phase')

    def test_list_bad_volume_id(self):
        self.get('/v1/migrations?volume_id=1', 400,
                 "query parameter volume_id: '1' is not a 'uuid'")

    def test_list_bad_limit(self):
        self.get('/v1/migrations?limit=1.5', 400, 'not a positive integer')

    def test_list_bad_marker(self):
        self.get('/v1/migrations?marker=%s' % UNKNOWN_ID, 400,
                 'does not exist')

    def test_show_unknown(self):
        self.get('/v1/migrations/%s' % UNKNOWN_ID, 404, UNKNOWN_ID,
                 code='migrator.migration_not_found')

    def test_show_not_a_uuid(self):
        self.get('/v1/migrations/42', 404, 'Migration 42',
                 code='migrator.migration_not_found')

    def test_show_with_query(self):
        mig = self.make_migration(self.make_volume())
        self.get('/v1/migrations/%s?verbose=1' % mig.id, 400,
                 "unknown query parameter 'verbose'")

    def test_delete_not_allowed(self):
        mig = self.make_migration(self.make_volume())
        self.assertRejected('delete', '/v1/migrations/%s' % mig.id, 405,
                            'migrator.method_not_allowed', 'allowed: GET')


class CancelMigrationErrorsTest(base.APITestCase):

    def cancel(self, mig_id, status, detail, code, body=b''):
        return self.assertRejected('post', '/v1/migrations/%s/cancel'
                                   % mig_id, status, code, detail,
                                   body=body)

    def test_unknown(self):
        self.cancel(UNKNOWN_ID, 404, UNKNOWN_ID,
                    'migrator.migration_not_found')

    def test_finished(self):
        for status in states.MIGRATION_FINISHED:
            mig = self.make_migration(self.make_volume(), status=status,
                                      phase=states.P_DONE)
            self.cancel(mig.id, 409, ['is %s' % status, 'cannot cancel'],
                        'migrator.invalid_migration_status')

    def test_completing(self):
        mig = self.make_migration(self.make_volume(),
                                  status=states.M_COMPLETING,
                                  phase=states.P_SWITCHING)
        self.cancel(mig.id, 409, 'completing (phase switching)',
                    'migrator.invalid_migration_status')

    def test_already_cancelling(self):
        mig = self.make_migration(self.make_volume(),
                                  status=states.M_CANCELLING,
                                  phase=states.P_ROLLING_BACK)
        self.cancel(mig.id, 409, 'is cancelling',
                    'migrator.invalid_migration_status')

    def test_body_with_fields(self):
        mig = self.make_migration(self.make_volume())
        self.cancel(mig.id, 400, "'force' was unexpected", BAD,
                    body={'force': True})

    def test_malformed_body(self):
        mig = self.make_migration(self.make_volume())
        self.cancel(mig.id, 400, 'not valid JSON', BAD, body=b'{')

    def test_get_not_allowed(self):
        mig = self.make_migration(self.make_volume())
        self.assertRejected('get', '/v1/migrations/%s/cancel' % mig.id, 405,
                            'migrator.method_not_allowed', 'allowed: POST')
