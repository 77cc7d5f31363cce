"""Regression test: a cancel answered 202 must never end in success.

A cancel is recorded (``cancel_requested``, compare-and-swap on a
cancellable phase) by the API, then cast to the conductor.  The
conductor moved a migration on out of a cancellable phase with a
compare-and-swap on the phase only, from a row read before the cancel
was recorded: when the end of the copy was being recorded at that
moment, the migration went on to ``finalizing`` and succeeded, the 202
notwithstanding.  The same window existed between creating the
destination and starting the copy: the copy then ran to its end before
the cancel was seen.

Here both races are provoked deterministically: the conductor's write
of the next phase is held after it read the migration, the cancel is
requested (and its cast to the conductor held until that write has been
tried), then both are released.
"""

import os
import threading

import fixtures

from migrator_api.common import states
from migrator_api.db import api as db_api
from tests.functional.flows import base

MiB = base.MiB
HOLD = 60


class TestCancelRacingCopyEnd(base.FlowTestCase):

    def setUp(self):
        super().setUp()
        self.at_write = threading.Event()
        self.release = threading.Event()
        self.written = threading.Event()

    def _hold_phase_write(self, from_phase, to_phases):
        """Hold the conductor's write of from_phase -> to_phases until
        released; ``written`` is set once it has been tried."""
        real = db_api.migration_and_volume_update

        def held(migration_id, migration_values, volume_id, volume_values,
                 expected=None):
            if ((expected or {}).get('phase') == from_phase
                    and migration_values.get('phase') in to_phases):
                self.at_write.set()
                self.release.wait(HOLD)
                try:
                    return real(migration_id, migration_values, volume_id,
                                volume_values, expected)
                finally:
                    self.written.set()
            return real(migration_id, migration_values, volume_id,
                        volume_values, expected)
        self.useFixture(fixtures.MockPatchObject(
            db_api, 'migration_and_volume_update', held))

    def _delay_cancel_cast(self):
        """The conductor handles the cancel only after the held write."""
        conductor = self.system.conductor
        real = conductor.cancel_migration

        def delayed(ctxt, migration_id):
            self.written.wait(HOLD)
            return real(ctxt, migration_id)
        self.useFixture(fixtures.MockPatchObject(
            conductor, 'cancel_migration', delayed))

    def _cancel_while_held(self, vol, from_phase, to_phases):
        self._hold_phase_write(from_phase, to_phases)
        self._delay_cancel_cast()
        mig = self.migrate(vol['id'], 'file2', force=True)
        self.assertTrue(self.at_write.wait(HOLD), 'phase write not reached')
        reply = self.cancel(mig['id'])['migration']
        self.assertTrue(reply['cancel_requested'], reply)
        self.assertEqual(from_phase, reply['phase'])
        self.release.set()
        final, _ = self.wait_migration(mig['id'])
        return mig, final

    def _assert_rolled_back(self, vol, final, src, expected):
        self.assertEqual('cancelled', final['status'], final)
        self.assertEqual('done', final['phase'])
        after = self.get_volume(vol['id'])
        self.assertEqual(('file1', 'available', 'cancelled'),
                         (after['backend'], after['status'],
                          after['migration_status']))
        self.assertEqual(src, self.path_of(after))
        self.assert_same_bytes(expected, src)
        self.assert_no_hidden_volumes()
        self.assertEqual([], os.listdir(os.path.join(self.state_path,
                                                     'file2')))

    def test_cancel_while_the_end_of_the_copy_is_recorded(self):
        size = 8 * MiB
        vol = self.create_volume(size, 'file1')
        src = self.path_of(vol)
        expected = self.write_pattern(src, size, seed=51)
        mig, final = self._cancel_while_held(
            vol, states.P_COPYING, (states.P_FINALIZING, states.P_SWITCHING))
        # The copy had reached its end (100%) when the cancel came.
        self.assertEqual('done', self.system.volume.get_copy_status(
            None, mig['id'])['state'])
        self._assert_rolled_back(vol, final, src, expected)

    def test_cancel_while_the_start_of_the_copy_is_recorded(self):
        size = 8 * MiB
        vol = self.create_volume(size, 'file1')
        src = self.path_of(vol)
        expected = self.write_pattern(src, size, seed=52)
        mig, final = self._cancel_while_held(
            vol, states.P_CREATING_DESTINATION, (states.P_COPYING,))
        # Honoured at once: no copy was started.
        self.assertIsNone(self.system.volume.get_copy_status(None,
                                                             mig['id']))
        self.assertIsNone(db_api.migration_get(mig['id']).copy_host)
        self._assert_rolled_back(vol, final, src, expected)

    def test_cancel_after_the_end_of_the_copy_is_refused(self):
        size = 4 * MiB
        vol = self.create_volume(size, 'file1')
        expected = self.write_pattern(self.path_of(vol), size, seed=53)
        # Held once the volume lives on the destination.
        self._hold_phase_write(states.P_DELETING_SOURCE, (states.P_DONE,))
        mig = self.migrate(vol['id'], 'file2')
        self.assertTrue(self.at_write.wait(HOLD), 'phase write not reached')
        resp = self.cancel(mig['id'], status=409)
        self.assertIn('cannot cancel', resp['errors'][0]['detail'])
        self.release.set()
        final, _ = self.wait_migration(mig['id'])
        self.assertEqual('success', final['status'], final)
        self.assertFalse(final['cancel_requested'])
        self.assert_same_bytes(expected,
                               self.path_of(self.get_volume(vol['id'])))
