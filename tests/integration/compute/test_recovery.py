"""Crash recovery: the agent dies at every recorded step (before and
after the step's journal write), a fresh driver runs ``recover()``, and
the migration is finished or rolled back with nothing lost; libvirtd
itself is killed and restarted mid-migration too."""

from tests.integration.compute import base
from tests.integration import fixtures_libvirt as fl

B, A = 'before-journal', 'after-journal'

START_POINTS = [
    ('start:overlay', A), ('start:lock', A), ('start:snapshot', B),
    ('start:snapshot', A), ('frozen', B), ('frozen', A)]
COMPLETE_POINTS = [
    ('complete:overlay2', A), ('complete:copy', B), ('complete:copy', A),
    ('complete:pivot', B), ('complete:pivot', A), ('switched', B),
    ('switched', A)]
FOLD_POINTS = [
    ('fold:commit', A), ('fold:pivot', B), ('fold:pivot', A),
    ('fold:config', B), ('fold:config', A), ('fold:cleanup', A),
    ('finished', A)]
CANCEL_POINTS = [
    ('cancel:requested', A), ('cancel:commit', A), ('cancel:pivot', B),
    ('cancel:pivot', A), ('cancel:config', B), ('cancel:config', A),
    ('cancel:cleanup', A)]
SIZE = 4 * fl.MiB


class Scenario(object):
    """One attachment of the shared test domain, with a guest writer."""

    def __init__(self, test, uuid, point, seed, src_kind='file',
                 dst_kind='file'):
        self.test, self.uuid, self.point = test, uuid, point
        self.src = test.make_volume(src_kind, size=SIZE)
        self.dst = test.make_volume(dst_kind, size=SIZE, data=bytes(SIZE))
        self.aid, self.target = test.attach(uuid, self.src)
        self.dst_aid = self.aid + '-dst'
        self.model = bytearray(self.src.read())
        self.copied = False
        self.writer = test.writer(uuid, self.target, self.model, seed=seed)

    def copy(self):
        if not self.copied:
            self.test.freeze_copy(self.src, self.dst)
            self.copied = True

    def complete(self, driver):
        done = base.Done()
        driver.migration_complete(self.uuid, self.aid, self.dst_aid,
                                  self.dst.connection_info, on_done=done)
        return done


class RecoveryMixin(object):

    def dying_driver(self, point):
        driver = self.new_driver()
        driver.ctx.fault_hook = base.crash_at(*point)
        return driver

    def bury(self, driver):
        """Wait until the simulated crash happened, then the agent is
        gone: its connection closes, its threads are dead."""
        self.assertTrue(driver.ctx.fault_hook.hit.wait(120), 'never crashed')
        for thread in driver.workers.threads():
            thread.join(60)
        driver.cleanup()

    def run_until_crash(self, s, driver, path, start=True):
        """Start (unless already started), copy, then complete or cancel
        with ``driver`` until its simulated crash, and bury it."""
        try:
            if start:
                driver.migration_start(s.uuid, s.aid)
                if s.writer.is_alive():
                    s.writer.wait_for(2)
                s.copy()
            if path == 'complete':
                s.complete(driver)
            else:
                driver.migration_cancel(s.uuid, s.aid)
        except base.Crash:
            pass
        self.bury(driver)

    def finish_after_recovery(self, s, driver, outcome, path):
        """Drive the migration to its end with the recovered driver and
        check every byte."""
        s.writer.wait_for(2)
        if outcome.startswith('frozen'):
            s.copy()
            if path == 'complete':
                s.complete(driver).wait(self)
                outcome = 'completed'
            else:
                done = base.Done()
                driver.migration_cancel(s.uuid, s.aid, on_done=done)
                done.wait(self)
                outcome = 'cancelled'
        s.writer.wait_for(2)
        s.writer.stop()
        self.flush(s.uuid, s.target)
        if outcome == 'completed':
            self.assert_data(s.dst, s.model)
            self.assert_on(s.uuid, s.target, s.dst)
            self.assertEqual(s.aid, driver.journal.load(
                s.dst_aid)['migrated_from'])
            driver.detach_volume(s.uuid, s.dst_aid)
        else:
            self.assertIn(outcome, ('cancelled', 'rolled back (start had '
                                                 'not returned)'))
            outcome = 'cancelled'
            self.assert_data(s.src, s.model)
            self.assert_on(s.uuid, s.target, s.src)
            driver.detach_volume(s.uuid, s.aid)
        self.assert_clean(driver)
        self.assertFalse(driver.is_busy(s.uuid))
        return outcome

    def crash_and_recover(self, uuid, point, seed, path='complete',
                          expect=None, restart_libvirtd=False, **kinds):
        s = Scenario(self, uuid, point, seed, **kinds)
        s.writer.start()
        s.writer.wait_for(2)
        self.run_until_crash(s, self.dying_driver(point), path)
        if restart_libvirtd:
            s.writer.stop()           # its connection dies with libvirtd
            fl.restart_libvirtd()
            self.lv.reconnect()
            s.writer = self.writer(uuid, s.target, s.model, seed=seed + 1)
            s.writer.start()
        s.writer.wait_for(2)
        driver = self.new_driver()
        outcome = dict(driver.recover())[s.aid]
        if expect is not None:
            self.assertEqual(expect, outcome, point)
        return self.finish_after_recovery(s, driver, outcome, path)

    def crash_while_locking(self, seed):
        """A stopped domain's migrations: the agent dies at each of
        their steps."""
        import libvirt
        uuid = self.lv.create_domain(start=False)
        for i, (point, path, expect) in enumerate([
                (('offline:lock', A), 'complete', 'rolled back (start had '
                                                  'not returned)'),
                (('offline:locked', B), 'complete', 'rolled back (start had '
                                                    'not returned)'),
                (('offline:locked', A), 'complete', 'frozen'),
                (('complete:offline', A), 'complete', 'completed'),
                (('switched', B), 'complete', 'completed'),
                (('finished', A), 'complete', 'completed'),
                (('cancel:config', A), 'cancel', 'cancelled')]):
            s = Scenario(self, uuid, point, seed + i)
            self.run_until_crash(s, self.dying_driver(point), path)
            driver = self.new_driver()
            outcome = dict(driver.recover())[s.aid]
            self.assertEqual(expect, outcome, point)
            if outcome == 'frozen':
                # Still locked after the agent restarted.
                self.assertRaises(libvirt.libvirtError,
                                  self.lv.domain(uuid).create)
                s.copy()
                s.complete(driver).wait(self)
                outcome = 'completed'
            volume = s.dst if outcome == 'completed' else s.src
            self.assert_on(uuid, s.target, volume, live=False)
            self.assert_data(volume, s.model)
            self.assert_clean(driver)
            driver.detach_volume(uuid, s.dst_aid if outcome == 'completed'
                                 else s.aid)
        self.lv.domain(uuid).create()


class TestAgentCrash(RecoveryMixin, base.LibvirtTestCase):

    def _run(self, points, path, expected, **kinds):
        uuid = self.lv.create_domain()
        for i, point in enumerate(points):
            outcome = self.crash_and_recover(uuid, point, 100 + i, path,
                                             **kinds)
            self.assertEqual(expected(point), outcome, point)

    def test_crash_during_start(self):
        self._run(START_POINTS, 'complete',
                  lambda p: 'completed' if p == ('frozen', A)
                  else 'cancelled')

    def test_crash_during_complete(self):
        self._run(COMPLETE_POINTS, 'complete', lambda p: 'completed',
                  src_kind='block', dst_kind='file')

    def test_crash_during_fold(self):
        self._run(FOLD_POINTS, 'complete', lambda p: 'completed',
                  src_kind='file', dst_kind='block')

    def test_crash_during_cancel(self):
        self._run(CANCEL_POINTS, 'cancel', lambda p: 'cancelled',
                  src_kind='block', dst_kind='block')

    def test_crash_while_domain_stopped(self):
        """Live migrations whose domain went down, and stopped-domain
        migrations: the agent dies in their offline steps."""
        uuid = self.lv.create_domain()
        for i, (point, path, expect) in enumerate([
                (('complete:cold-rebase', A), 'complete', 'frozen (complete '
                                                          'had not switched)'),
                (('switched', B), 'complete', 'completed'),
                (('fold:cold-commit', A), 'complete', 'completed'),
                (('fold:config', B), 'complete', 'completed'),
                (('cancel:cold-commit', A), 'cancel', 'cancelled'),
                (('cancel:config', B), 'cancel', 'cancelled')]):
            s = Scenario(self, uuid, point, 200 + i, src_kind='block')
            self.write_some(s.writer, uuid)
            self.driver.migration_start(uuid, s.aid)
            self.write_some(s.writer, uuid, 10)
            self.flush(uuid, s.target)
            self.lv.domain(uuid).destroy()
            s.copy()
            self.run_until_crash(s, self.dying_driver(point), path,
                                 start=False)
            self.assertFalse(self.lv.domain(uuid).isActive())
            driver = self.new_driver()
            outcome = dict(driver.recover())[s.aid]
            self.assertEqual(expect, outcome, point)
            if outcome.startswith('frozen'):
                s.complete(driver).wait(self)
            volume = s.dst if path == 'complete' else s.src
            self.assert_data(volume, s.model)
            self.assert_on(uuid, s.target, volume, live=False)
            self.assert_clean(driver)
            # And the domain starts on it.
            self.lv.domain(uuid).create()
            self.assert_on(uuid, s.target, volume)
            driver.detach_volume(uuid, s.dst_aid if path == 'complete'
                                 else s.aid)

    def test_crash_while_locking_a_stopped_domain(self):
        self.crash_while_locking(300)
