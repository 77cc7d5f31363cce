"""Crash recovery with volumes of other hosts: the agent dies at the
steps where bridges start or stop (and around them), a fresh driver
recovers, the migration ends with every byte in place, and no bridge is
left behind; bridges a reboot stopped run again, stray ones stop."""

import os
import signal
import time

from tests.integration.compute import base
from tests.integration.compute import test_recovery as tr
from tests.integration.datapath_compute import base as nbd_base
from tests.integration.datapath_compute import fixtures_nbd

NBD = nbd_base.NBD
B, A = tr.B, tr.A
BRIDGE_B, BRIDGE_A = ('bridge:start', 'before'), ('bridge:start', 'after')

START_POINTS = [('start:overlay', A), ('start:snapshot', A), ('frozen', A)]
COMPLETE_POINTS = [
    ('complete:overlay2', A), BRIDGE_B, BRIDGE_A, ('complete:copy', A),
    ('complete:pivot', A), ('switched', B), ('switched', A)]
FOLD_POINTS = [('fold:commit', A), ('fold:pivot', A), ('fold:config', A),
               ('finished', A)]
CANCEL_POINTS = [('cancel:requested', A), ('cancel:commit', A),
                 ('cancel:pivot', A), ('cancel:config', A)]


class TestAgentCrashNbd(tr.RecoveryMixin, nbd_base.NbdTestCase):

    def _run(self, points, path, expected, **kinds):
        uuid = self.lv.create_domain()
        for i, point in enumerate(points):
            outcome = self.crash_and_recover(uuid, point, 400 + i, path,
                                             **kinds)
            self.assertEqual(expected(point), outcome, point)
            self.assert_no_bridges()

    def test_crash_during_start(self):
        self._run(START_POINTS, 'cancel', lambda p: 'cancelled',
                  src_kind=NBD, dst_kind=NBD)

    def test_crash_during_complete(self):
        self._run(COMPLETE_POINTS, 'complete', lambda p: 'completed',
                  src_kind=NBD, dst_kind=NBD)

    def test_crash_during_complete_onto_nbd(self):
        self._run([BRIDGE_A, ('switched', B)], 'complete',
                  lambda p: 'completed', src_kind='file', dst_kind=NBD)

    def test_crash_during_fold(self):
        self._run(FOLD_POINTS, 'complete', lambda p: 'completed',
                  src_kind=NBD, dst_kind='file')

    def test_crash_during_cancel(self):
        self._run(CANCEL_POINTS, 'cancel', lambda p: 'cancelled',
                  src_kind=NBD, dst_kind=NBD)

    def test_crash_while_domain_stopped(self):
        uuid = self.lv.create_domain()
        for i, (point, path) in enumerate([
                (BRIDGE_A, 'complete'),
                (('fold:cold-commit', A), 'complete'),
                (('cancel:cold-commit', A), 'cancel')]):
            s = tr.Scenario(self, uuid, point, 500 + i, src_kind=NBD,
                            dst_kind=NBD)
            self.write_some(s.writer, uuid)
            self.driver.migration_start(uuid, s.aid)
            self.write_some(s.writer, uuid, 10)
            self.flush(uuid, s.target)
            self.lv.domain(uuid).destroy()
            s.copy()
            self.run_until_crash(s, self.dying_driver(point), path,
                                 start=False)
            driver = self.new_driver()
            outcome = dict(driver.recover())[s.aid]
            if outcome.startswith('frozen'):
                s.complete(driver).wait(self)
            volume = s.dst if path == 'complete' else s.src
            self.assert_data(volume, s.model)
            self.assert_on(uuid, s.target, volume, live=False)
            self.assert_clean(driver)
            self.lv.domain(uuid).create()
            self.assert_on(uuid, s.target, volume)
            driver.detach_volume(uuid, s.dst_aid if path == 'complete'
                                 else s.aid)
            self.assert_no_bridges()

    def test_crash_while_attaching(self):
        uuid = self.lv.create_domain()
        for point in (BRIDGE_B, BRIDGE_A):
            vol = self.make_volume(NBD, size=4 * nbd_base.MiB)
            dying = self.dying_driver(point)
            self.assertRaises(base.Crash, dying.attach_volume, uuid, 'att',
                              vol.connection_info)
            dying.cleanup()
            driver = self.new_driver()
            self.assertEqual([('att', 'attach rolled back')],
                             driver.recover())
            self.assertEqual([], self.live_chain(uuid, 'sda'))
            self.assert_no_bridges()


class TestBridgesAtStart(nbd_base.NbdTestCase):

    def test_stopped_bridge_runs_again(self):
        """After a reboot (here: the bridge killed while the domain was
        down) recovery starts the bridge again, and the domain starts on
        its volume."""
        uuid = self.lv.create_domain(start=False)
        vol = self.make_volume(NBD, size=4 * nbd_base.MiB)
        aid, target = self.attach(uuid, vol)
        for pid in fixtures_nbd.bridge_daemons(self.bridge_dir()):
            os.kill(pid, signal.SIGKILL)
        # SIGKILL takes effect when the process next runs: wait for it.
        deadline = time.monotonic() + 30
        while self.running_bridges() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual([], self.running_bridges())
        driver = self.new_driver()
        self.assertEqual([(aid, 'attached')], driver.recover())
        self.assertEqual([self.bridge_of(aid)], self.running_bridges())
        dom = self.lv.domain(uuid)
        dom.create()
        model = bytearray(vol.read())
        w = self.writer(uuid, target, model, seed=41)
        self.write_some(w, uuid, 10)
        self.flush(uuid, target)
        self.assert_data(vol, model)
        driver.detach_volume(uuid, aid)
        self.assert_no_bridges()

    def test_stray_bridge_stopped(self):
        vol = self.make_volume(NBD, size=4 * nbd_base.MiB)
        bridges = self.driver.ctx.bridges
        stray = bridges.entry('gone', vol.connection_info)
        bridges.start(stray)
        self.assertEqual([stray['socket']], self.running_bridges())
        self.assertEqual([], self.new_driver().recover())
        self.assert_no_bridges()
