"""The room the overlays take: the estimate before a freeze, the caps,
what the watch measures and the ends it reports (with a real journal
and real files; the libvirt side is in
tests/integration/compute/test_overlay_room.py)."""

import os
import threading

from oslo_config import cfg

from migrator_api.common import exception
from migrator_compute.drivers.libvirt import overlays
from migrator_compute import journal as journal_mod
from migrator_compute.journal import Step
from tests import base

MiB = overlays.MiB
GiB = 1024 * MiB


class TestLimits(base.TestCase):

    def test_from_the_options(self):
        self.flags(overlay_reserve_ratio=0.25, overlay_reserve_min_mb=10,
                   overlay_max_mb=300, overlay_max_ratio=0.5,
                   overlay_report_interval=2, group='compute')
        limits = overlays.Limits.from_conf(cfg.CONF.compute)
        self.assertEqual(overlays.Limits(0.25, 10 * MiB, 300 * MiB, 0.5, 2),
                         limits)

    def test_defaults(self):
        limits = overlays.Limits.from_conf(cfg.CONF.compute)
        # A tenth of the volume plus 64 MiB; no cap.
        self.assertEqual(GiB // 10 + 64 * MiB, limits.reserve(GiB))
        self.assertIsNone(limits.cap(GiB))
        self.assertEqual(5, limits.interval)

    def test_reserve(self):
        limits = overlays.Limits(reserve_ratio=0.1, reserve_min=MiB)
        self.assertEqual(MiB, limits.reserve(0))
        self.assertEqual(MiB + 100, limits.reserve(1000))
        self.assertEqual(0, overlays.Limits(0, 0).reserve(10 * GiB))

    def test_cap_is_the_smaller(self):
        self.assertEqual(100 * MiB, overlays.Limits(
            max_bytes=100 * MiB, max_ratio=0.5).cap(GiB))
        self.assertEqual(GiB // 4, overlays.Limits(
            max_bytes=GiB, max_ratio=0.25).cap(GiB))
        self.assertEqual(GiB // 4, overlays.Limits(max_ratio=0.25).cap(GiB))
        self.assertEqual(MiB, overlays.Limits(max_bytes=MiB).cap(GiB))

    def test_over(self):
        limits = overlays.Limits(reserve_min=MiB, max_bytes=8 * MiB)
        self.assertIsNone(limits.over(8 * MiB, GiB, GiB))
        self.assertEqual(
            'the overlay reached %d bytes, over the cap of %d'
            % (8 * MiB + 1, 8 * MiB), limits.over(8 * MiB + 1, GiB, GiB))
        # Its filesystem under the headroom: given up too, cap or not.
        reason = overlays.Limits(reserve_min=MiB).over(5, GiB, MiB - 1)
        self.assertIn('under the %d of overlay_reserve_min_mb' % MiB, reason)
        self.assertIsNone(overlays.Limits(0, 0).over(GiB, GiB, 0))


class TestRoom(base.TestCase):

    def test_check_room(self):
        free = overlays.free_bytes(self.state_path)
        self.assertGreater(free, 0)
        overlays.check_room('inst', self.state_path, GiB,
                            overlays.Limits(0, free // 2))
        overlays.check_room('inst', self.state_path, 100 * GiB * 1024,
                            overlays.Limits(0, 0))   # the check is off
        e = self.assertRaises(
            exception.InstanceNotFreezable, overlays.check_room, 'inst',
            self.state_path, 2 * free, overlays.Limits(0.5, 64 * MiB))
        self.assertEqual(409, e.code)
        text = str(e)
        self.assertIn('Instance inst cannot be frozen', text)
        self.assertIn('the overlay directory %s has' % self.state_path, text)
        self.assertIn('needs %d' % (free + 64 * MiB), text)
        self.assertIn('overlay_reserve_ratio 0.5', text)
        self.assertIn('overlay_reserve_min_mb 64 MiB', text)

    def test_allocated_bytes(self):
        path = os.path.join(self.state_path, 'sparse')
        self.assertEqual(0, overlays.allocated_bytes(path))
        self.assertEqual(0, overlays.allocated_bytes(None))
        with open(path, 'wb') as f:
            f.truncate(GiB)
        self.assertLess(overlays.allocated_bytes(path), MiB)
        with open(path, 'r+b') as f:
            f.write(b'\xa5' * (4 * MiB))
            os.fsync(f.fileno())
        self.assertGreaterEqual(overlays.allocated_bytes(path), 4 * MiB)


class _Ctx(object):
    """What the watch uses of a driver's Context: the limits, the
    journal, the overlay directory, the attachment locks."""

    def __init__(self, path, limits):
        self.limits = limits
        self.journal = journal_mod.Journal(os.path.join(path, 'journal'))
        self.overlay_path = path
        self._lock = threading.RLock()

    def attachment_lock(self, attachment_id):
        return self._lock


class TestWatch(base.TestCase):

    def setUp(self):
        super().setUp()
        self.ctx = _Ctx(self.state_path,
                        overlays.Limits(0, 0, max_bytes=2 * MiB))
        self.reports, self.given_up = [], []
        self.watch = overlays.Watch(
            self.ctx, lambda rec, reason, size: self.given_up.append(
                (rec['attachment_id'], reason, size)))
        self.watch.reporter = lambda *a: self.reports.append(a)

    def _frozen(self, aid, written, step=Step.FROZEN, mode='live'):
        overlay = os.path.join(self.state_path, aid + '.qcow2')
        with open(overlay, 'wb') as f:
            f.write(b'\x5a' * written)
            os.fsync(f.fileno())
        rec = self.ctx.journal.new_record(aid, 'inst', 'vdb', {})
        rec['migration'] = {'mode': mode, 'overlay': overlay, 'size': GiB,
                            'migration_id': 'mig-' + aid}
        self.ctx.journal.set_step(rec, step)
        return rec

    def test_measures_reports_and_gives_up(self):
        self._frozen('small', MiB)
        self._frozen('big', 3 * MiB)
        self._frozen('offline', 3 * MiB, mode='offline')
        self._frozen('switching', 3 * MiB, step=Step.COMPLETE_COPY)
        self.watch.tick()
        sizes = {r[0]: r[1] for r in self.reports}
        self.assertEqual({'mig-small', 'mig-big'}, set(sizes))
        self.assertGreaterEqual(sizes['mig-small'], MiB)
        self.assertGreaterEqual(sizes['mig-big'], 3 * MiB)
        self.assertEqual([None, None], [r[2] for r in self.reports])
        self.assertEqual(1, len(self.given_up))
        aid, reason, size = self.given_up[0]
        self.assertEqual(('big', sizes['mig-big']), (aid, size))
        self.assertEqual('the overlay reached %d bytes, over the cap of %d'
                         % (size, 2 * MiB), reason)
        # Not given up twice while its rollback runs.
        self.watch.tick()
        self.assertEqual(1, len(self.given_up))

    def test_reports_the_end_once_also_after_a_failed_report(self):
        rec = self.ctx.journal.new_record('a1', 'inst', 'vdb', {})
        rec['last_migration'] = {'step': Step.CANCELLED, 'gave_up': {
            'reason': 'over the cap', 'overlay_bytes': 7,
            'migration_id': 'm1'}}
        self.ctx.journal.save(rec)

        def down(*args):
            raise RuntimeError('the message bus is down')
        self.watch.reporter = down
        self.watch.tick()
        self.assertFalse(self.ctx.journal.load('a1')['last_migration'][
            'gave_up'].get('reported'))
        self.watch.reporter = lambda *a: self.reports.append(a)
        self.watch.tick()
        self.watch.tick()
        self.assertEqual([('m1', 7, 'over the cap')], self.reports)
        self.assertTrue(self.ctx.journal.load('a1')['last_migration'][
            'gave_up']['reported'])
