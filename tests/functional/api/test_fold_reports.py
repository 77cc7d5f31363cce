"""The compute agent's fold-in reports: late, repeated, error then
success (the agent finished the fold-in when it restarted)."""

from migrator_api.common import states
from migrator_api.conductor import migrate
from migrator_api.db import api as db_api
from tests.functional.api import base


class FoldReportsTest(base.APITestCase):

    def _folding(self, **values):
        vol = self.make_volume(status=states.IN_USE)
        mig = self.make_migration(vol, phase=states.P_FOLDING,
                                  status=states.M_COMPLETING, **values)
        return vol, mig

    def _report(self, mig, error=None):
        migrate.compute_finished(mig.id, 'complete', error)
        migrate.wait_idle()
        return db_api.migration_get(mig.id)

    def test_report_ends_the_migration_once(self):
        vol, mig = self._folding()
        for _ in range(2):
            row = self._report(mig)
            self.assertEqual((states.P_DONE, states.M_SUCCESS, 'done'),
                             (row.phase, row.status, row.fold_status))
        self.assertEqual(states.M_SUCCESS,
                         db_api.volume_get(vol.id).migration_status)

    def test_report_before_the_folding_phase_is_kept(self):
        vol, mig = self._folding()
        db_api.migration_update(mig.id, {'phase': states.P_DELETING_SOURCE})
        row = self._report(mig)
        self.assertEqual((states.P_DELETING_SOURCE, 'done'),
                         (row.phase, row.fold_status))

    def test_error_then_success(self):
        vol, mig = self._folding()
        row = self._report(mig, 'libvirtd went away')
        self.assertEqual((states.P_DONE, states.M_ERROR), (row.phase,
                                                           row.status))
        self.assertIn('libvirtd went away', row.error)
        self.assertIn('lives on the destination', row.error)
        row = self._report(mig)
        self.assertEqual((states.M_SUCCESS, None, 'done'),
                         (row.status, row.error, row.fold_status))
        self.assertEqual(states.M_SUCCESS,
                         db_api.volume_get(vol.id).migration_status)
