"""The conductor dies at each recorded phase; the next one finishes.

A crash is simulated by making the handler of the phase *after* the
recorded one kill its thread (an exception no flow catches), exactly as
if the process had died right after recording the phase.  Then the
watchdog's start-up pass, as a restarted conductor runs it, must carry
the migration to a consistent end with every byte in place.
"""

import os

import fixtures

from migrator_api.common import states
from migrator_api.conductor import migrate
from migrator_api.conductor import watchdog
from migrator_api.db import api as db_api
from tests.functional.flows import base

MiB = base.MiB
_REAL_HANDLERS = dict(migrate._HANDLERS)


class _Crash(BaseException):
    """The process died here."""


class TestConductorCrash(base.FlowTestCase):

    def _crash_in(self, phase):
        def _die(ctxt, mig):
            raise _Crash(phase)
        self.useFixture(fixtures.MockPatchObject(
            migrate, '_HANDLERS', dict(_REAL_HANDLERS, **{phase: _die})))

    def _restart(self):
        self.useFixture(fixtures.MockPatchObject(
            migrate, '_HANDLERS', dict(_REAL_HANDLERS)))
        migrate.wait_idle()

    def _stuck_in(self, migration_id, phase):
        self.system.wait_for(
            lambda: db_api.migration_get(migration_id).phase == phase,
            'phase %s' % phase)
        migrate.wait_idle()
        self.assertEqual(phase, db_api.migration_get(migration_id).phase)

    def _check_success(self, vol, mig_id, expected):
        final, _ = self.wait_migration(mig_id)
        self.assertEqual('success', final['status'], final)
        after = self.get_volume(vol['id'])
        self.assertEqual(('file2', 'available', 'success'),
                         (after['backend'], after['status'],
                          after['migration_status']))
        self.assert_same_bytes(expected, self.path_of(after))
        self.assert_no_hidden_volumes()
        self.assertEqual([], os.listdir(os.path.join(self.state_path,
                                                     'file1')))

    def _run_crash(self, crash_phase):
        vol = self.create_volume(6 * MiB, 'file1')
        expected = self.write_pattern(self.path_of(vol), 6 * MiB, seed=21)
        self._crash_in(crash_phase)
        mig = self.migrate(vol['id'], 'file2', force=True)
        self._stuck_in(mig['id'], crash_phase)
        self.assertEqual('maintenance',
                         self.get_volume(vol['id'])['status'])
        self._restart()
        watchdog.sweep(startup=True)
        return vol, mig, expected

    def test_crash_after_recording_queued(self):
        vol, mig, expected = self._run_crash(states.P_QUEUED)
        self._check_success(vol, mig['id'], expected)

    def test_crash_after_recording_creating_destination(self):
        vol, mig, expected = self._run_crash(states.P_CREATING_DESTINATION)
        self._check_success(vol, mig['id'], expected)

    def test_crash_after_recording_finalizing(self):
        vol, mig, expected = self._run_crash(states.P_FINALIZING)
        self._check_success(vol, mig['id'], expected)

    def test_crash_after_recording_deleting_source(self):
        vol, mig, expected = self._run_crash(states.P_DELETING_SOURCE)
        self._check_success(vol, mig['id'], expected)

    def test_crash_during_rollback(self):
        vol = self.create_volume(6 * MiB, 'file1')
        expected = self.write_pattern(self.path_of(vol), 6 * MiB, seed=22)
        real_report = self.system.conductor.copy_finished

        def failed_copy(ctxt, migration_id, bytes_done, bytes_total,
                        error=None):
            real_report(ctxt, migration_id, 0, bytes_total, 'disk on fire')
        self.useFixture(fixtures.MockPatchObject(
            self.system.conductor, 'copy_finished', failed_copy))
        self._crash_in(states.P_ROLLING_BACK)
        mig = self.migrate(vol['id'], 'file2', force=True)
        self._stuck_in(mig['id'], states.P_ROLLING_BACK)
        self.assertEqual('migrating', db_api.migration_get(mig['id']).status)
        self._restart()
        watchdog.sweep(startup=True)
        final, _ = self.wait_migration(mig['id'])
        self.assertEqual('error', final['status'], final)
        self.assertEqual('disk on fire', final['error'])
        after = self.get_volume(vol['id'])
        self.assertEqual(('file1', 'available', 'error'),
                         (after['backend'], after['status'],
                          after['migration_status']))
        self.assert_same_bytes(expected, self.path_of(after))
        self.assert_no_hidden_volumes()
        self.assertEqual([], os.listdir(os.path.join(self.state_path,
                                                     'file2')))


class TestLostReports(base.FlowTestCase):
    """Reports that never arrive: the watchdog asks the worker."""

    def _drop_copy_reports(self):
        self.useFixture(fixtures.MockPatchObject(
            self.system.conductor, 'copy_finished',
            lambda *a, **kw: None))

    def _copy_ended(self, migration_id):
        job_ended = lambda: (self.system.volume.get_copy_status(  # noqa
            None, migration_id) or {}).get('state') not in (None, 'running')
        self.system.wait_for(job_ended, 'copy end')
        self.assertEqual(states.P_COPYING,
                         db_api.migration_get(migration_id).phase)

    def test_lost_end_of_copy_is_found(self):
        vol = self.create_volume(6 * MiB, 'file1')
        expected = self.write_pattern(self.path_of(vol), 6 * MiB, seed=23)
        self._drop_copy_reports()
        mig = self.migrate(vol['id'], 'file2')
        self._copy_ended(mig['id'])
        watchdog.check_copy(db_api.migration_get(mig['id']))
        final, _ = self.wait_migration(mig['id'])
        self.assertEqual('success', final['status'], final)
        self.assert_same_bytes(expected,
                               self.path_of(self.get_volume(vol['id'])))

    def test_worker_that_forgot_the_copy_fails_the_migration(self):
        vol = self.create_volume(6 * MiB, 'file1')
        expected = self.write_pattern(self.path_of(vol), 6 * MiB, seed=24)
        self._drop_copy_reports()
        mig = self.migrate(vol['id'], 'file2', force=True)
        self._copy_ended(mig['id'])
        # The worker restarts: it no longer knows the copy.
        self.system.volume._jobs.clear()
        watchdog.check_copy(db_api.migration_get(mig['id']))
        final, _ = self.wait_migration(mig['id'])
        self.assertEqual('error', final['status'], final)
        self.assertIn('no longer knows this copy', final['error'])
        after = self.get_volume(vol['id'])
        self.assertEqual(('file1', 'available'),
                         (after['backend'], after['status']))
        self.assert_same_bytes(expected, self.path_of(after))
        self.assert_no_hidden_volumes()
