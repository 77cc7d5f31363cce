"""The per-compute-host limit with real libvirtd and QEMU guests: the
second live migration of a host waits in ``queued`` while the first
runs (its guest writing into its overlay), then runs; both guests keep
writing throughout and every byte is compared."""

from migrator_api.db import api as db_api
from tests.integration import fixtures_libvirt as lv
from tests.integration.inuse import base


class TestLiveMigrationsOfOneHost(base.InUseTestCase):

    def setUp(self):
        super().setUp()
        self.flags(max_concurrent_live_migrations=1,
                   max_concurrent_copies_per_worker=0,
                   max_concurrent_copies_per_backend=0, group='conductor')

    def test_one_host_one_live_migration_at_a_time(self):
        guests = [self.lv.create_domain() for _ in range(2)]
        vols = [self.random_volume('file1') for _ in guests]
        atts = [self.attach(vol, guest)
                for (vol, _), guest in zip(vols, guests)]
        writers = [self.writer(guest, att['device'], model)
                   for guest, att, (_, model) in zip(guests, atts, vols)]
        migs = [self.migrate(vol['id'], 'file2') for vol, _ in vols]
        self.system.wait_for(
            lambda: self.get_migration(migs[0]['id'])['status'] not in
            ('queued', 'starting') and
            self.get_migration(migs[1]['id'])['status'] == 'queued',
            'the second live migration queued behind the first')
        finals = [self.wait_migration(m['id'], 240)[0] for m in migs]
        for writer in writers:
            writer.wait_for(3)
            writer.stop()
        self.assertEqual(['success', 'success'],
                         [f['status'] for f in finals], finals)
        first, second = [db_api.migration_get(m['id']) for m in migs]
        self.assertGreaterEqual(second.started_at, first.finished_at)
        for guest, att, (vol, model) in zip(guests, atts, vols):
            self.settle(guest)
            lv.guest_flush(self.lv.domain(guest), att['device'])
            after = self.get_volume(vol['id'])
            self.assertEqual('file2', after['backend'])
            self.assert_same_bytes(bytes(model), self.path_of(after))
