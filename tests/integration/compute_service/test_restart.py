"""The compute agent stops (dies, or is stopped) while it owes the
conductor the end of a migration; a new ComputeManager on the same
journal finishes the work in init_host and reports the end under the
migration id given before the restart.  Guest writes go on throughout;
every byte is compared."""

import os
import threading
import uuid as uuid_mod

from tests.integration.compute import test_recovery
from tests.integration.compute_service import base

HOST = base.HOST
B, A = test_recovery.B, test_recovery.A


def pause_at(step, phase):
    """A fault hook that holds the flow at ``(step, phase)`` until
    released (the agent is stopped meanwhile)."""
    reached, release = threading.Event(), threading.Event()

    def hook(s, p):
        if (s, p) == (step, phase):
            reached.set()
            release.wait(base.WAIT)
    hook.reached, hook.release = reached, release
    return hook


class TestAgentRestart(test_recovery.RecoveryMixin,
                       base.ComputeServiceTestCase):

    def dying_service(self, point):
        """An agent whose driver dies (Crash) at ``point``."""
        driver = self.dying_driver(point)
        return driver, self.start_service(driver=driver)

    def restart(self, driver, svc, w):
        """Wait for the crash, take the agent down, let the guest write
        while no agent runs, then start a fresh agent (driver loaded from
        the configuration; recovery runs in init_host)."""
        self.bury(driver)
        svc.stop()
        w.wait_for(3)
        return self.start_service()

    def _die_in_fold_in(self, uuid, point, seed):
        driver, svc = self.dying_service(point)
        aid, target, src, dst, model, w = self.writing_disk(
            uuid, 'file', 'block', seed)
        mid = 'm-%s' % seed
        self.api.volume_migration_start(self.ctxt, HOST, uuid, aid)
        w.wait_for(3)
        self.freeze_copy(src, dst)
        dst_aid = str(uuid_mod.uuid4())
        self.assertEqual({'target': target},
                         self.api.volume_migration_complete(
                             self.ctxt, HOST, uuid, aid, dst_aid,
                             dst.connection_info, mid))
        os.unlink(src.file)                           # released
        self.assertEqual(['complete.%s.json' % aid],
                         self.migration_records())
        fresh = self.restart(driver, svc, w)
        self.assertEqual(('complete', None),
                         self.conductor.wait_report(self, mid))
        self.finish_writes(w, uuid, target)
        self.assert_data(dst, model)
        self.assert_on(uuid, target, dst)
        self.assert_clean()
        self.assertEqual([], self.migration_records())
        self.assertEqual(aid, self.driver.attachment(
            dst_aid)['migrated_from'])
        self.api.detach_volume(self.ctxt, HOST, uuid, dst_aid)
        fresh.stop()
        self.assertEqual([('complete', None)], self.conductor.reports(mid))

    def test_dies_during_the_fold_in(self):
        uuid = self.lv.create_domain()
        for i, point in enumerate([('fold:pivot', B), ('finished', A)]):
            self._die_in_fold_in(uuid, point, 40 + i)

    def test_clean_stop_during_the_fold_in(self):
        """A fold-in cut short by a clean stop is no failure: nothing is
        reported then; the next agent finishes it and reports success."""
        uuid = self.lv.create_domain()
        driver = self.new_driver()
        driver.ctx.fault_hook = pause_at('fold:pivot', A)
        svc = self.start_service(driver=driver)
        aid, target, src, dst, model, w = self.writing_disk(
            uuid, 'block', 'block', 45)
        self.api.volume_migration_start(self.ctxt, HOST, uuid, aid)
        w.wait_for(3)
        self.freeze_copy(src, dst)
        self.api.volume_migration_complete(self.ctxt, HOST, uuid, aid,
                                           'dst-45', dst.connection_info,
                                           'm-45')
        self.assertTrue(driver.ctx.fault_hook.reached.wait(base.WAIT))
        svc.stop()                          # closes the libvirt connection
        driver.ctx.fault_hook.release.set()     # the fold-in now fails
        for thread in driver.workers.threads():
            thread.join(base.WAIT)
        self.assertEqual('fold:pivot', self.driver.migration_state(aid))
        w.wait_for(3)
        self.start_service()
        self.assertEqual(('complete', None),
                         self.conductor.wait_report(self, 'm-45'))
        self.finish_writes(w, uuid, target)
        self.assert_data(dst, model)
        self.assert_on(uuid, target, dst)
        self.assert_clean()
        self.assertEqual([('m-45', 'complete', None)],
                         self.conductor.finished)

    def test_stopped_while_frozen(self):
        """Nothing is owed while frozen: the new agent keeps the freeze,
        reports nothing, and completes later."""
        uuid = self.lv.create_domain()
        svc = self.start_service()
        aid, target, src, dst, model, w = self.writing_disk(
            uuid, 'block', 'file', 50)
        self.api.volume_migration_start(self.ctxt, HOST, uuid, aid)
        w.wait_for(3)
        svc.stop()
        w.wait_for(3)
        self.start_service()
        self.assertEqual('frozen', self.driver.migration_state(aid))
        w.wait_for(3)
        frozen = self.freeze_copy(src, dst)
        self.api.volume_migration_complete(self.ctxt, HOST, uuid, aid,
                                           'dst-50', dst.connection_info,
                                           'm-50')
        self.assertEqual(frozen, src.read())
        self.assertEqual(('complete', None),
                         self.conductor.wait_report(self, 'm-50'))
        self.finish_writes(w, uuid, target)
        self.assert_data(dst, model)
        self.assert_on(uuid, target, dst)
        self.assertEqual([('m-50', 'complete', None)],
                         self.conductor.finished)

    def _die_in_cancel(self, point, seed):
        uuid = self.lv.create_domain()
        driver, svc = self.dying_service(point)
        aid, target, src, _dst, model, w = self.writing_disk(
            uuid, 'block', 'file', seed)
        self.api.volume_migration_start(self.ctxt, HOST, uuid, aid)
        w.wait_for(3)
        self.api.volume_migration_cancel(self.ctxt, HOST, uuid, aid, 'm-x')
        self.restart(driver, svc, w)
        self.assertEqual(('cancel', None),
                         self.conductor.wait_report(self, 'm-x'))
        self.finish_writes(w, uuid, target)
        self.assert_data(src, model)
        self.assert_on(uuid, target, src)
        self.assert_clean()
        self.assertEqual([], self.migration_records())
        self.assertEqual([('m-x', 'cancel', None)], self.conductor.finished)

    def test_dies_after_accepting_a_cancel(self):
        """The cast was taken but the rollback never began: the new
        agent runs the cancel itself."""
        self._die_in_cancel(('cancel:requested', B), 60)

    def test_dies_during_the_rollback(self):
        self._die_in_cancel(('cancel:pivot', B), 61)
