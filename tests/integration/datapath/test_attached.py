"""Volumes attached to instances of another host than theirs: what the
conductor hands the compute agent (an export to its host, which it
reads over NBD with its own credentials) and when the exports end."""

from migrator_api.db import api as db_api
from tests.integration.datapath import system
from tests.integration.datapath import test_migrate

MiB = test_migrate.MiB


class TestAttachedAcrossHosts(test_migrate.CrossHostTestCase):
    """Volume hosts vol1 and vol2, an instance on cmp1 (a compute agent
    that reads what it is given as QEMU would)."""

    COMPUTE = (system.COMPUTE, 'vol2')

    def attach(self, volume_id, host=system.COMPUTE):
        resp = self.app.post_json('/v1/attachments', {'attachment': {
            'volume_id': volume_id, 'instance_uuid': system.INSTANCE,
            'host': host}}, status=202)
        att = resp.json['attachment']
        self.system.wait_for(
            lambda: self.get_volume(volume_id)['status'] != 'attaching',
            'attached')
        self.assertEqual('in-use', self.get_volume(volume_id)['status'])
        return att

    def detach(self, volume_id):
        [att] = db_api.attachment_get_all(volume_id=volume_id)
        self.app.delete('/v1/attachments/%s' % att.id, status=202)
        self.system.wait_for(
            lambda: self.get_volume(volume_id)['status'] == 'available',
            'detached')

    def given(self, host=system.COMPUTE):
        """What a compute agent holds: [(connection_info, first 4K)]."""
        return list(self.system.computes[host].attached.values())

    def test_attach_gives_an_export_to_the_compute_host(self):
        vol = self.create_volume(8 * MiB, 'f1')
        expected = self.write_pattern(self.path_of(vol), 8 * MiB, seed=12)
        self.attach(vol['id'])
        [(location, head)] = self.given()
        self.assertEqual('nbd', location['driver_volume_type'])
        self.assertEqual(self.hosts.address('vol1'),
                         location['data']['host'])
        self.assertEqual(expected[:4096], head)
        self.assertEqual(1, len(self.daemons('vol1')))
        # The volume's own location is unchanged: exports are handed
        # out, never recorded as where the volume lives.
        self.assertEqual('file', self.get_volume(vol['id'])['location']
                         ['driver_volume_type'])
        self.detach(vol['id'])
        self.assert_no_daemons()

    def test_attached_migration_between_hosts(self):
        size = 16 * MiB
        vol = self.create_volume(size, 'f1')
        expected = self.write_pattern(self.path_of(vol), size, seed=13)
        self.attach(vol['id'])
        final, seen = self.wait_migration(
            self.migrate(vol['id'], 'f2')['id'])
        self.assertEqual('success', final['status'], final)
        [(target, head)] = self.system.computes[system.COMPUTE].completed
        self.assertEqual('nbd', target['driver_volume_type'])
        self.assertEqual(self.hosts.address('vol2'), target['data']['host'])
        self.assertEqual(expected[:4096], head)
        self.assert_same_bytes(expected,
                               self.path_of(self.get_volume(vol['id'])))
        # The source's exports (the copy's, the guest's) went with the
        # source; the destination's to cmp1 is now the attachment's.
        self.assertEqual([], self.daemons('vol1'))
        self.assertEqual(1, len(self.daemons('vol2')))
        self.detach(vol['id'])
        self.assert_no_daemons()

    def test_migration_onto_the_compute_host_needs_no_export(self):
        # An instance on vol2 (which also runs a compute agent): the
        # volume of vol1 is exported to vol2; once it lives on vol2 the
        # guest is given its local location, and no export is left.
        size = 4 * MiB
        vol = self.create_volume(size, 'f1')
        expected = self.write_pattern(self.path_of(vol), size, seed=14)
        self.attach(vol['id'], host='vol2')
        [(location, _head)] = self.given('vol2')
        self.assertEqual('nbd', location['driver_volume_type'])
        final, _ = self.wait_migration(self.migrate(vol['id'], 'f2')['id'])
        self.assertEqual('success', final['status'], final)
        [(target, head)] = self.system.computes['vol2'].completed
        self.assertEqual('file', target['driver_volume_type'])
        self.assertEqual(expected[:4096], head)
        self.assertEqual([], self.daemons('vol1') + self.daemons('vol2'))
        self.detach(vol['id'])
        self.assert_no_daemons()
