"""The compute host is protected from the overlays, against real
libvirtd and QEMU with a guest writing known patterns: a freeze is
refused when the overlay filesystem (a small tmpfs) lacks room, the
overlay's size is reported while frozen and grows with the guest's
writes, and past the cap the agent rolls the guest back onto its
source itself (also when it dies during that rollback); every byte is
compared at the end."""

import os
import subprocess
import threading
import time
import uuid as uuid_mod

from migrator_api.common import exception
from migrator_compute.drivers.libvirt import overlays
from migrator_compute.journal import Step
from tests.integration.compute import base
from tests.integration import fixtures_libvirt as fl

MiB = fl.MiB
WAIT = 120


class Reports(object):
    """The driver's overlay reporter: ``(migration_id, bytes, error)``."""

    def __init__(self):
        self.items = []
        self._cond = threading.Condition()

    def __call__(self, migration_id, overlay_bytes, error=None):
        with self._cond:
            self.items.append((migration_id, overlay_bytes, error))
            self._cond.notify_all()

    def wait_for(self, test, predicate, what):
        with self._cond:
            test.assertTrue(self._cond.wait_for(
                lambda: predicate(self.items), WAIT), what)
            return list(self.items)

    def errors(self):
        with self._cond:
            return [i for i in self.items if i[2] is not None]


class TestOverlayRoom(base.LibvirtTestCase):

    def watched_driver(self, **flags):
        self.flags(overlay_report_interval=0.2, group='compute')
        self.flags(group='compute', **flags)
        driver = self.new_driver()
        reports = Reports()
        driver.set_overlay_reporter(reports)
        return driver, reports

    def guest(self, driver, size=16 * MiB, seed=1):
        uuid = self.lv.create_domain()
        src = self.make_volume('file', size=size)
        aid, target = self.attach(uuid, src, driver=driver)
        model = bytearray(src.read())
        w = self.writer(uuid, target, model, seed=seed)
        w.phase_fn = lambda: driver.migration_state(aid)
        return uuid, src, aid, target, model, w

    def small_tmpfs(self, size_mb=16):
        path = os.path.join(self.tmp, 'small-overlays')
        os.mkdir(path)
        subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=%dm,mode=0700'
                        % size_mb, 'tmpfs', path], check=True)
        self.addCleanup(subprocess.run, ['umount', '-l', path], check=True)
        return path

    def test_refused_when_the_overlay_filesystem_is_too_small(self):
        small = self.small_tmpfs(16)
        driver, reports = self.watched_driver(
            overlay_path=small, overlay_reserve_ratio=0.5,
            overlay_reserve_min_mb=8)
        # 64 MiB: half of it plus 8 MiB is more than the 16 MiB there.
        uuid, src, aid, target, model, w = self.guest(driver, 64 * MiB)
        w.start()
        w.wait_for(3)
        e = self.assertRaises(exception.InstanceNotFreezable,
                              driver.migration_start, uuid, aid, 'mig-1')
        self.assertEqual(409, e.code)
        self.assertIn('the overlay directory %s has' % small, str(e))
        self.assertIn('needs %d' % (32 * MiB + 8 * MiB), str(e))
        # Nothing frozen, recorded or left behind; the guest writes on.
        self.assertIsNone(driver.migration_state(aid))
        self.assertIsNone(driver.attachment(aid).get('last_migration'))
        self.assertEqual([], os.listdir(small))
        self.assertFalse(driver.is_busy(uuid))
        self.assert_on(uuid, target, src)
        w.wait_for(5)
        w.stop()
        self.flush(uuid, target)
        self.assert_data(src, model)
        self.assertEqual({None}, set(w.phases))
        self.assertEqual([], reports.items)
        # With room (a smaller reserve) the same guest freezes.
        driver.ctx.limits = overlays.Limits(0.1, MiB)
        self.assertEqual({'mode': 'live'},
                         driver.migration_start(uuid, aid, 'mig-1'))
        done = base.Done()
        driver.migration_cancel(uuid, aid, on_done=done)
        done.wait(self)
        self.assert_data(src, model)

    def test_size_reported_while_frozen_and_growing(self):
        driver, reports = self.watched_driver()
        uuid, src, aid, target, model, w = self.guest(driver)
        self.assertEqual({'mode': 'live'},
                         driver.migration_start(uuid, aid, 'mig-2'))
        frozen = src.read()
        first = reports.wait_for(self, lambda items: items,
                                 'no overlay report')[0]
        self.assertEqual(('mig-2', None), (first[0], first[2]))
        # Grows with the guest's writes (new clusters of the overlay).
        w.start()
        w.wait_for(60)
        grown = reports.wait_for(
            self, lambda items: items and items[-1][1] >= first[1] + MiB,
            'the reported size never grew: %s' % reports.items)[-1]
        w.wait_for(3)
        overlay = driver.journal.load(aid)['migration']['overlay']
        on_disk = os.stat(overlay).st_blocks * 512
        self.assertLessEqual(grown[1], on_disk)
        self.assertEqual(frozen, src.read())          # nothing reached SRC
        done = base.Done()
        driver.migration_cancel(uuid, aid, on_done=done)
        done.wait(self)
        count = len(reports.items)
        w.wait_for(3)
        w.stop()
        time.sleep(1)                   # five intervals: nothing more
        self.assertEqual(count, len(reports.items))
        self.assertEqual([], reports.errors())
        self.flush(uuid, target)
        self.assert_data(src, model)
        self.assert_on(uuid, target, src)
        self.assert_clean(driver)
        self.assertGreater(w.phases['frozen'], 0)

    def _given_up(self, driver, reports, uuid, src, aid, target, model, w):
        """The cap was passed: the end, then the guest on its source
        with every write it made."""
        reports.wait_for(self, lambda items: any(i[2] for i in items),
                         'the cap was never enforced')
        self.assertTrue(driver.wait_idle(uuid, WAIT))
        [(mig_id, size, error)] = reports.errors()
        self.assertEqual('mig-3', mig_id)
        self.assertEqual('the overlay reached %d bytes, over the cap of %d'
                         % (size, MiB), error)
        self.assertGreater(size, MiB)
        rec = driver.attachment(aid)
        self.assertIsNone(rec['migration'])
        self.assertEqual(Step.CANCELLED, rec['last_migration']['step'])
        self.assertTrue(rec['last_migration']['gave_up']['reported'])
        self.assertIn(Step.CANCEL_REQUESTED, [
            h[0] for h in rec['last_migration']['history']])
        self.assert_on(uuid, target, src)
        self.assert_clean(driver)
        w.wait_for(5)                   # the guest writes to SRC again
        w.stop()
        self.flush(uuid, target)
        self.assert_data(src, model)
        self.assertGreater(w.phases['frozen'], 0)
        self.assertGreater(w.phases[None], 0)
        # The conductor's cancel that follows is a repeat: done.
        done = base.Done()
        driver.migration_cancel(uuid, aid, on_done=done)
        done.wait(self)
        # And a complete is refused: the attachment is the source's.
        dst = self.make_volume('file', size=src.size, data=bytes(src.size))
        e = self.assertRaises(exception.MigrationGivenUp,
                              driver.migration_complete,
                              uuid, aid, str(uuid_mod.uuid4()),
                              dst.connection_info)
        self.assertIn('gave the migration up', str(e))
        self.assertIn(error, str(e))

    def test_past_the_cap_the_guest_goes_back_to_its_source(self):
        driver, reports = self.watched_driver(overlay_max_mb=1)
        g = self.guest(driver, seed=3)
        uuid, src, aid, target, model, w = g
        driver.migration_start(uuid, aid, 'mig-3')
        frozen = src.read()
        self.assertEqual(frozen, bytes(model))
        w.start()
        self._given_up(driver, reports, *g)
        # Before the rollback nothing reached the source: what it holds
        # now differs from the frozen image by the overlay's writes only.
        self.assertNotEqual(frozen, src.read())

    def test_agent_dies_while_giving_up(self):
        driver, reports = self.watched_driver(overlay_max_mb=1)
        g = self.guest(driver, seed=4)
        uuid, src, aid, target, model, w = g
        driver.migration_start(uuid, aid, 'mig-3')
        driver.ctx.fault_hook = base.crash_at(Step.CANCEL_COMMIT,
                                              'after-journal')
        w.start()
        self.assertTrue(driver.ctx.fault_hook.hit.wait(WAIT),
                        'the cap was never enforced')
        for thread in driver.workers.threads():
            thread.join(60)
        driver.cleanup()
        self.assertEqual([], reports.errors())
        # The next agent finishes the rollback and reports the end.
        again, reports = self.watched_driver(overlay_max_mb=1)
        dict(again.recover())
        self._given_up(again, reports, *g)
