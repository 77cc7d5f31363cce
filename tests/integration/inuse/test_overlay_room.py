"""The compute host is protected, end to end (API, conductor, volume
worker, compute agent, a real QEMU guest writing): a migration whose
overlay would lack room is refused before the freeze, the overlay's size
is shown with the migration's progress, and a migration whose overlay
goes past the cap is rolled back onto the source by the agent and ends
in error; every byte the guest wrote is on the source."""

import os

import libvirt

from migrator_compute.drivers.libvirt import overlays
from tests.integration import fixtures_libvirt as lv
from tests.integration.inuse import base

MiB = base.MiB


class TestOverlayRoom(base.InUseTestCase):

    # 32 MiB at 2 MiB/s: the copy takes about 16 seconds.
    BPS_LIMIT = 2 * MiB
    SIZE = 32 * MiB

    def limits(self, **kwargs):
        """The agent's overlay limits, now (its watch reads them at each
        measure)."""
        kwargs.setdefault('interval', 0.2)
        self.system.compute.driver.ctx.limits = overlays.Limits(**kwargs)

    def guest(self):
        instance = self.lv.create_domain()
        vol, model = self.random_volume('file1')
        att = self.attach(vol, instance)
        writer = self.writer(instance, att['device'], model)
        return instance, vol, model, att, writer

    def on_the_source(self, instance, vol, model, att, writer):
        writer.wait_for(3)          # the guest writes on, to the source
        writer.stop()
        self.settle(instance)
        dom = self.lv.domain(instance)
        lv.guest_flush(dom, att['device'])
        after = self.get_volume(vol['id'])
        src = self.path_of(after)
        self.assertEqual(('file1', 'in-use', 'error'),
                         (after['backend'], after['status'],
                          after['migration_status']))
        self.assert_same_bytes(bytes(model), src)
        self.assertIn(src, dom.XMLDesc(0))
        self.assertIn(src, dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        self.assert_no_hidden_volumes()
        self.assertEqual([], os.listdir(os.path.join(self.state_path,
                                                     'file2')))

    def test_refused_without_room(self):
        self.limits(reserve_ratio=100000.0, reserve_min=0)
        g = self.guest()
        mig = self.migrate(g[1]['id'], 'file2')
        final, _ = self.wait_migration(mig['id'])
        self.assertEqual('error', final['status'], final)
        self.assertIn('cannot be frozen', final['error'])
        self.assertIn('overlay_reserve_ratio', final['error'])
        self.assertIsNone(final['overlay_bytes'])
        self.assertEqual(0, g[4].phases['copying'])
        self.on_the_source(*g)

    def test_size_shown_while_frozen(self):
        self.limits(reserve_ratio=0.1, reserve_min=MiB)
        instance, vol, model, att, writer = self.guest()
        mig = self.migrate(vol['id'], 'file2')
        sizes = []

        def grown():
            shown = self.get_migration(mig['id'])
            if shown['overlay_bytes'] is not None:
                sizes.append(shown['overlay_bytes'])
            return len(sizes) > 1 and sizes[-1] > sizes[0] + MiB
        self.system.wait_for(grown, 'the overlay size grew', 60, 0.2)
        self.assertEqual(sorted(sizes), sizes)
        final, _ = self.wait_migration(mig['id'])
        writer.wait_for(3)
        writer.stop()
        self.assertEqual('success', final['status'], final)
        self.assertGreaterEqual(final['overlay_bytes'], sizes[-1])
        self.settle(instance)
        lv.guest_flush(self.lv.domain(instance), att['device'])
        self.assert_same_bytes(bytes(model),
                               self.path_of(self.get_volume(vol['id'])))

    def test_past_the_cap_the_migration_rolls_back(self):
        self.limits(reserve_ratio=0.1, reserve_min=MiB, max_bytes=2 * MiB)
        g = self.guest()
        mig = self.migrate(g[1]['id'], 'file2')
        final, seen = self.wait_migration(mig['id'])
        self.assertEqual('error', final['status'], final)
        self.assertIn('migrating', seen)
        self.assertGreater(final['overlay_bytes'], 2 * MiB)
        self.assertIn('the compute agent on %s rolled the guest back onto '
                      'its source: the overlay reached %d bytes, over the '
                      'cap of %d' % (final['compute_host'],
                                     final['overlay_bytes'], 2 * MiB),
                      final['error'])
        self.assertGreater(g[4].phases['copying'], 0)
        self.on_the_source(*g)
