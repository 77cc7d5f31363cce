"""The overlay guards through the agent's RPC API (a real
ComputeManager over oslo.messaging, real libvirt domains, a guest
writing known patterns): the refusal reaches the caller as a 409, the
sizes and the end of a given-up migration reach the conductor
(``overlay_progress``, 1.1; a conductor pinned to 1.0 hears of the end
as a failed cancel), and every byte is on the source afterwards."""

from migrator_api.common import exception
from tests.integration.compute_service import base
from tests.unit.volume import base as volume_base

HOST = base.HOST
MiB = 1024 * 1024


class TestOverlayRPC(base.ComputeServiceTestCase):

    def _overlays(self, migration_id):
        with self.conductor._cond:
            return [o[1:] for o in self.conductor.overlays
                    if o[0] == migration_id]

    def test_refused_without_room(self):
        self.flags(overlay_reserve_ratio=100000, group='compute')
        self.start_service()
        uuid = self.lv.create_domain()
        aid, target, src, dst, model, w = self.writing_disk(
            uuid, 'file', 'file', seed=21)
        e = self.assertRaises(exception.InstanceNotFreezable,
                              self.api.volume_migration_start, self.ctxt,
                              HOST, uuid, aid, migration_id='m-room')
        self.assertEqual(409, e.code)
        self.assertIn('overlay_reserve_ratio', str(e))
        self.assertIsNone(self.driver.migration_state(aid))
        self.finish_writes(w, uuid, target)
        self.assert_data(src, model)
        self.assert_on(uuid, target, src)

    def _given_up(self, migration_id):
        uuid = self.lv.create_domain()
        aid, target, src, dst, model, w = self.writing_disk(
            uuid, 'file', 'file', seed=22)
        self.assertEqual({'mode': 'live'}, self.api.volume_migration_start(
            self.ctxt, HOST, uuid, aid, migration_id=migration_id))
        return uuid, aid, target, src, model, w

    def test_sizes_and_the_end_reach_the_conductor(self):
        self.flags(overlay_max_mb=1, overlay_report_interval=0.2,
                   group='compute')
        self.start_service()
        uuid, aid, target, src, model, w = self._given_up('m-cap')
        self.assertTrue(self.conductor.wait_for(
            lambda: any(e for _b, e in self._overlays('m-cap'))),
            'the end was never reported: %s' % self._overlays('m-cap'))
        reports = self._overlays('m-cap')
        ends = [(b, e) for b, e in reports if e]
        self.assertEqual(1, len(ends))
        size, error = ends[0]
        self.assertEqual('the overlay reached %d bytes, over the cap of %d'
                         % (size, MiB), error)
        sizes = [b for b, e in reports if e is None]
        self.assertTrue(sizes)
        self.assertEqual(sorted(sizes), sizes)        # it only grew
        self.assertTrue(self.driver.wait_idle(uuid, base.WAIT))
        self.finish_writes(w, uuid, target)
        self.assert_data(src, model)
        self.assert_on(uuid, target, src)
        self.assertEqual([], self.conductor.reports('m-cap'))
        # And the same in the agent's notifications.
        sent = volume_base.MessagingFixture.notifications(
            'volume.migration.overlay')
        publisher = 'migrator-compute.%s' % HOST
        self.assertEqual(
            [('volume.migration.overlay',
              {'migration_id': 'm-cap', 'overlay_bytes': b}, publisher)
             for b in sizes] +
            [('volume.migration.overlay_exceeded',
              {'migration_id': 'm-cap', 'overlay_bytes': size,
               'error': error}, publisher)], sent)

    def test_a_conductor_of_1_0_hears_of_a_failed_cancel(self):
        self.flags(conductor='1.0', group='upgrade_levels')
        self.flags(overlay_max_mb=1, overlay_report_interval=0.2,
                   group='compute')
        self.start_service()
        uuid, aid, target, src, model, w = self._given_up('m-old')
        op, error = self.conductor.wait_report(self, 'm-old')
        self.assertEqual('cancel', op)
        self.assertIn('over the cap of %d' % MiB, error)
        self.assertEqual([], self._overlays('m-old'))
        self.assertTrue(self.driver.wait_idle(uuid, base.WAIT))
        self.finish_writes(w, uuid, target)
        self.assert_data(src, model)
