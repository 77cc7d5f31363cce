"""libvirtd killed (SIGKILL) and restarted in the middle of live
migrations.  These tests hold the host exclusively: no other test runs
against libvirtd while it restarts."""

from tests.integration.compute import base
from tests.integration.compute import test_recovery as tr
from tests.integration import fixtures_libvirt as fl


class TestLibvirtdRestart(tr.RecoveryMixin, base.LibvirtTestCase):
    EXCLUSIVE = True

    def test_restart_while_frozen_then_complete(self):
        """The agent stays up; libvirtd restarts under it while the
        guest writes into the overlay; complete reconnects and works."""
        uuid = self.lv.create_domain()
        s = tr.Scenario(self, uuid, None, 400, src_kind='block',
                        dst_kind='file')
        s.writer.start()
        s.writer.wait_for(3)
        self.driver.migration_start(uuid, s.aid)
        s.writer.wait_for(3)
        s.copy()
        s.writer.stop()
        fl.restart_libvirtd()
        self.lv.reconnect()
        s.writer = self.writer(uuid, s.target, s.model, seed=401)
        s.writer.start()
        s.writer.wait_for(3)
        s.complete(self.driver).wait(self)
        self.finish_after_recovery(s, self.driver, 'completed', 'complete')

    def test_restart_with_block_jobs_running(self):
        """The agent dies with a copy, a fold-in or a rollback job
        running and ready, then libvirtd dies too; after both restart,
        recover() finishes or rolls back."""
        uuid = self.lv.create_domain()
        for i, (point, path, expect) in enumerate([
                (('complete:pivot', tr.A), 'complete',
                 'frozen (complete had not switched)'),
                (('fold:pivot', tr.A), 'complete', 'completed'),
                (('cancel:pivot', tr.A), 'cancel', 'cancelled')]):
            self.crash_and_recover(uuid, point, 410 + i, path, expect=expect,
                                   restart_libvirtd=True, src_kind='file',
                                   dst_kind='block')
