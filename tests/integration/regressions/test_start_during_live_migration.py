"""Regression: a guest stopped in the middle of its live volume
migration could be started again, on the overlay.

The freeze of a running guest (an external disk-only snapshot onto a
local qcow2 overlay) made libvirt rewrite the domain's persistent
definition to name the overlay.  A guest destroyed, or shut down from
inside, during the copy was then started by ``virsh start`` on the
overlay while the migration went on (and went on to finish the overlay
with qemu-img under the running guest).  Now the definition stays
locked (it names a path that never exists) from before the snapshot
until the end of the fold-in or of the rollback, whatever happens to
the guest: destroyed, shut down from inside, reset or rebooted,
libvirtd restarted, the agent restarted, the definition rewritten.
Every byte the guest wrote ends on the destination after complete (on
the source after cancel), and the domain then starts there.
"""

import os
import threading
import time

import libvirt
import libvirt_qemu

from migrator_compute.drivers.libvirt import guest
from migrator_testing import guests
from tests.integration.compute import base
from tests.integration.compute import test_recovery as tr
from tests.integration import fixtures_libvirt as fl

HMP = libvirt_qemu.VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP
A, B = tr.A, tr.B


def soft_off(dom):
    """What an OS does to power off: SLP_EN with sleep type 0 (soft off
    on QEMU's PIIX4 PM) into PM1a_CNT, at 0x604 where SeaBIOS puts the
    ACPI PM block.  QEMU reports a shutdown by the guest."""
    libvirt_qemu.qemuMonitorCommand(dom, 'o /w 0x604 0x2000', HMP)


def guest_poweroff(dom):
    """The guest shuts itself down (retried: the firmware may not have
    set the PM block up yet)."""
    for _attempt in range(5):
        try:
            soft_off(dom)
        except libvirt.libvirtError:
            # The previous write did it, later than we waited for.
            if not dom.isActive():
                return
            raise
        deadline = time.monotonic() + 2
        while dom.isActive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if not dom.isActive():
            return


def guest_reset(dom):
    """The guest resets itself (PIIX3 reset control register)."""
    libvirt_qemu.qemuMonitorCommand(dom, 'o /b 0xcf9 0x06', HMP)


def pause_at(step, phase=B):
    """A fault hook that holds the flow at ``(step, phase)``, once,
    until ``release`` is set."""
    reached, release = threading.Event(), threading.Event()

    def hook(s, p):
        if (s, p) == (step, phase) and not reached.is_set():
            reached.set()
            release.wait(120)
    hook.reached, hook.release = reached, release
    return hook


class Helpers(tr.RecoveryMixin):

    def frozen(self, uuid, seed, driver=None, **kinds):
        """A new volume of ``uuid`` frozen while the guest writes."""
        s = tr.Scenario(self, uuid, None, seed, **kinds)
        s.writer.start()
        s.writer.wait_for(3)
        (driver or self.driver).migration_start(uuid, s.aid)
        s.writer.wait_for(3)
        self.assert_locked(s)
        return s

    def assert_locked(self, s):
        lock = os.path.join(self.driver.overlay_path,
                            'MIGRATION-IN-PROGRESS-' + s.aid)
        self.assertEqual([os.path.realpath(lock)],
                         self.persistent_chain(s.uuid, s.target))

    def wait_locked(self, s, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.assert_locked(s)
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop_guest(self, s, how):
        """The writer stops and flushes, then ``how(dom)`` stops the
        domain; returns its state."""
        s.writer.stop()
        self.flush(s.uuid, s.target)
        dom = self.lv.domain(s.uuid)
        how(dom)
        deadline = time.monotonic() + 30
        while dom.isActive():
            self.assertLess(time.monotonic(), deadline, 'still running')
            time.sleep(0.05)
        return dom.state()

    def assert_refused(self, s):
        dom = self.lv.domain(s.uuid)
        e = self.assertRaises(libvirt.libvirtError, dom.create)
        self.assertIn('MIGRATION-IN-PROGRESS-%s' % s.aid, str(e))
        self.assertFalse(dom.isActive())

    def unlock_by_hand(self, s, *images, check=True):
        """Define the disk on ``images`` as an unlocked libvirt would
        (``check``: and see it defined so; a backstop that is listening
        may lock it again at once)."""
        dom = self.lv.domain(s.uuid)
        xml = guest.persistent_xml(dom)
        chain = [('file', images[0], 'qcow2')] + [
            (v.kind, v.path, 'raw') for v in images[1:]]
        disk = guest.chain_disk(guest.find_disk(guest.parse(xml), s.target),
                                chain)
        self.lv.conn.defineXML(guest.replace_disk(xml, s.target, disk))
        if check:
            self.assertEqual(os.path.realpath(images[0]),
                             self.persistent_chain(s.uuid, s.target)[0])

    def complete(self, s, driver=None):
        s.copy()
        s.complete(driver or self.driver).wait(self)
        self.assert_data(s.dst, s.model)
        self.assert_on(s.uuid, s.target, s.dst, live=False)
        self.assert_clean(driver)

    def cancel(self, s, driver=None):
        done = base.Done()
        (driver or self.driver).migration_cancel(s.uuid, s.aid,
                                                 on_done=done)
        done.wait(self)
        self.assert_data(s.src, s.model)
        self.assert_on(s.uuid, s.target, s.src, live=False)
        self.assert_clean(driver)

    def restart_on(self, s, volume):
        """After the end: the domain starts on ``volume`` alone, and
        what the guest writes lands there."""
        self.lv.domain(s.uuid).create()
        self.assert_on(s.uuid, s.target, volume)
        s.writer = self.writer(s.uuid, s.target, s.model, seed=1)
        self.write_some(s.writer, s.uuid, 10)
        self.flush(s.uuid, s.target)
        self.assert_data(volume, s.model)


class TestStartDuringLiveMigration(Helpers, base.LibvirtTestCase):

    def test_destroyed_while_frozen(self):
        uuid = self.lv.create_domain()
        s = self.frozen(uuid, 500, src_kind='block')
        self.stop_guest(s, lambda dom: dom.destroy())
        self.assert_refused(s)
        self.complete(s)
        self.restart_on(s, s.dst)
        # And the same, cancelled.
        s = self.frozen(uuid, 501, dst_kind='block')
        self.stop_guest(s, lambda dom: dom.destroy())
        self.assert_refused(s)
        self.cancel(s)
        self.restart_on(s, s.src)

    def test_guest_shuts_down_while_frozen(self):
        uuid = self.lv.create_domain()
        s = self.frozen(uuid, 510)
        self.assertEqual([libvirt.VIR_DOMAIN_SHUTOFF,
                          libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN],
                         self.stop_guest(s, guest_poweroff))
        self.assert_refused(s)
        self.complete(s)
        self.restart_on(s, s.dst)
        # QEMU told to exit (SIGTERM only), then a cancel.
        s = self.frozen(uuid, 511)
        self.assertEqual([libvirt.VIR_DOMAIN_SHUTOFF,
                          libvirt.VIR_DOMAIN_SHUTOFF_DESTROYED],
                         self.stop_guest(s, lambda dom: dom.destroyFlags(
                             libvirt.VIR_DOMAIN_DESTROY_GRACEFUL)))
        self.assert_refused(s)
        self.cancel(s)
        self.restart_on(s, s.src)

    def test_reset_and_reboot_stay_on_the_overlay(self):
        uuid = self.lv.create_domain()
        s = self.frozen(uuid, 520)
        dom = self.lv.domain(uuid)
        pid = guests.qemu_pid(dom.name())
        chain = self.live_chain(uuid, s.target)

        def acpi_reboot():
            # The guest answers the power button by powering off;
            # libvirt turns that into a reset of the same QEMU.
            dom.reboot(libvirt.VIR_DOMAIN_REBOOT_ACPI_POWER_BTN)
            soft_off(dom)
            time.sleep(0.5)
            deadline = time.monotonic() + 10
            while dom.state()[0] != libvirt.VIR_DOMAIN_RUNNING and \
                    time.monotonic() < deadline:
                time.sleep(0.05)
        for reboot in (lambda: dom.reset(0), lambda: guest_reset(dom),
                       acpi_reboot):
            reboot()
            s.writer.wait_for(5)
            self.assertEqual(libvirt.VIR_DOMAIN_RUNNING, dom.state()[0])
            self.assertEqual(pid, guests.qemu_pid(dom.name()))
            self.assertEqual(chain, self.live_chain(uuid, s.target))
            self.assert_locked(s)
        s.copy()
        done = s.complete(self.driver)
        s.writer.wait_for(3)
        dom.reset(0)
        done.wait(self)
        s.writer.wait_for(3)
        s.writer.stop()
        self.flush(uuid, s.target)
        self.assert_data(s.dst, s.model)
        self.assert_on(uuid, s.target, s.dst)
        self.assert_clean()

    def test_stopped_after_the_switch_and_during_the_rollback(self):
        uuid = self.lv.create_domain()
        for i, (point, path) in enumerate([
                (('fold:commit', B), 'complete'),   # switched
                (('fold:pivot', B), 'complete'),    # fold-in job ready
                (('fold:config', B), 'complete'),   # after its pivot
                (('cancel:pivot', B), 'cancel'),    # rollback job ready
                (('cancel:config', B), 'cancel')]):
            s = self.frozen(uuid, 530 + i)
            s.copy()
            hook = self.driver.ctx.fault_hook = pause_at(*point)
            if path == 'complete':
                done = s.complete(self.driver)
            else:
                done = base.Done()
                self.driver.migration_cancel(uuid, s.aid, on_done=done)
            self.assertTrue(hook.reached.wait(60), point)
            s.writer.wait_for(3)
            if path == 'complete':      # the guest left the source
                self.assertNotIn(os.path.realpath(s.src.path),
                                 self.live_chain(uuid, s.target))
            self.stop_guest(s, lambda dom: dom.destroy())
            self.assert_locked(s)
            self.assert_refused(s)
            hook.release.set()
            done.wait(self)
            volume = s.dst if path == 'complete' else s.src
            self.assert_data(volume, s.model)
            self.assert_on(uuid, s.target, volume, live=False)
            self.assert_clean()
            self.restart_on(s, volume)
            self.driver.detach_volume(uuid, s.dst_aid if path == 'complete'
                                      else s.aid)

    def test_recovery_locks_again(self):
        """An agent died and left the definition unlocked (as libvirt
        rewrote it at the snapshot or the switch): recovery locks it
        again, and the lock holds through the rest of the migration."""
        # No backstop here, in none of the drivers: the recovery must do
        # it.
        self.driver.host._lifecycle_listeners.clear()
        new_driver = self.new_driver

        def without_backstop():
            driver = new_driver()
            driver.host._lifecycle_listeners.clear()
            return driver
        self.new_driver = without_backstop
        uuid = self.lv.create_domain()
        for i, (point, images, pause) in enumerate([
                (('frozen', A), ('overlay', 'src'), None),
                (('fold:commit', B), ('overlay2',), ('fold:pivot', B))]):
            s = tr.Scenario(self, uuid, point, 540 + i)
            s.writer.start()
            s.writer.wait_for(3)
            dying = self.dying_driver(point)
            self.run_until_crash(s, dying, 'complete')
            self.unlock_by_hand(s, *[
                s.src if name == 'src' else dying.ctx.overlay_file(
                    {'attachment_id': s.aid}, name) for name in images])
            driver = self.new_driver()
            if pause is None:
                self.assertEqual('frozen', dict(driver.recover())[s.aid])
                self.assert_locked(s)
                s.writer.wait_for(3)
                self.stop_guest(s, lambda dom: dom.destroy())
                self.assert_refused(s)
                self.complete(s, driver)
            else:
                hook = driver.ctx.fault_hook = pause_at(*pause)
                out = []
                t = threading.Thread(target=lambda: out.append(
                    dict(driver.recover())[s.aid]))
                t.start()
                self.assertTrue(hook.reached.wait(60))
                self.assert_locked(s)
                self.stop_guest(s, lambda dom: dom.destroy())
                self.assert_refused(s)
                hook.release.set()
                t.join(120)
                self.assertEqual(['completed'], out)
                self.assert_data(s.dst, s.model)
                self.assert_on(uuid, s.target, s.dst, live=False)
                self.assert_clean(driver)
            self.restart_on(s, s.dst)
            driver.detach_volume(uuid, s.dst_aid)

    def test_agent_dies_after_a_pivot_then_the_guest_stops(self):
        """The agent dies right after a pivot, before the journal says
        so; the guest goes on writing, then stops.  The lock holds, and
        recovery takes the pivot as done: nothing is lost, nothing old
        is committed over newer writes."""
        uuid = self.lv.create_domain()
        for i, (path, stage, expect) in enumerate([
                ('complete', 'switch', 'completed'),
                ('complete', 'fold', 'completed'),
                ('cancel', 'cancel', 'cancelled')]):
            s = tr.Scenario(self, uuid, None, 560 + i, src_kind='block')
            s.writer.start()
            s.writer.wait_for(3)
            dying = self.dying_driver(('switched', B) if stage == 'switch'
                                      else ('never', A))
            if stage != 'switch':
                def pivoted(*args, hit=dying.ctx.fault_hook.hit):
                    hit.set()
                    raise base.Crash('after the pivot')
                dying.lock.pivoted = pivoted
            self.run_until_crash(s, dying, path)
            s.writer.wait_for(10)           # the agent is down
            self.stop_guest(s, lambda dom: dom.destroy())
            self.assert_refused(s)
            driver = self.new_driver()
            self.assertEqual(expect, dict(driver.recover())[s.aid])
            volume = s.dst if path == 'complete' else s.src
            self.assert_data(volume, s.model)
            self.assert_on(uuid, s.target, volume, live=False)
            self.assert_clean(driver)
            self.restart_on(s, volume)
            driver.detach_volume(uuid, s.dst_aid if path == 'complete'
                                 else s.aid)

    def test_redefined_while_frozen(self):
        """The backstop: someone redefines the domain with the overlay
        during the migration; the agent locks it again."""
        uuid = self.lv.create_domain()
        s = self.frozen(uuid, 550)
        self.unlock_by_hand(s, self.driver.ctx.overlay_file(
            {'attachment_id': s.aid}, 'overlay'), s.src, check=False)
        self.wait_locked(s)
        self.stop_guest(s, lambda dom: dom.destroy())
        self.assert_refused(s)
        self.complete(s)
        self.restart_on(s, s.dst)


class TestStartAfterLibvirtdRestart(Helpers, base.LibvirtTestCase):
    EXCLUSIVE = True

    def test_libvirtd_restarts_while_frozen(self):
        uuid = self.lv.create_domain()
        s = self.frozen(uuid, 560, src_kind='block')
        s.writer.stop()
        fl.restart_libvirtd()
        self.lv.reconnect()
        s.writer = self.writer(uuid, s.target, s.model, seed=561)
        s.writer.start()
        s.writer.wait_for(3)
        self.assert_locked(s)
        self.stop_guest(s, lambda dom: dom.destroy())
        self.assert_refused(s)
        fl.restart_libvirtd()       # and again, with the domain down
        self.lv.reconnect()
        self.assert_refused(s)
        self.complete(s)
        self.restart_on(s, s.dst)
