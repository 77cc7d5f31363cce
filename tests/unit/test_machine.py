"""The migration state machine's table: moves, phases that roll back,
and the phase that follows for attached and unattached volumes."""

import collections

from migrator_api.common import exception
from migrator_api.common import states as S
from migrator_api.conductor import machine
from tests import base

Mig = collections.namedtuple('Mig', 'phase attachment_id')


class TestMachine(base.TestCase):

    def test_every_phase_is_in_the_table(self):
        self.assertEqual(list(S.PHASES), list(machine.PHASES))

    def test_paths_of_attached_and_unattached_volumes(self):
        def path(attachment):
            phase, seen = S.P_QUEUED, [S.P_QUEUED]
            while phase != S.P_DONE:
                phase = machine.next_phase(Mig(phase, attachment))
                seen.append(phase)
            return seen
        self.assertEqual(
            [S.P_QUEUED, S.P_CREATING_DESTINATION, S.P_COPYING,
             S.P_FINALIZING, S.P_DELETING_SOURCE, S.P_DONE], path(None))
        self.assertEqual(
            [S.P_QUEUED, S.P_CREATING_DESTINATION, S.P_FREEZING,
             S.P_COPYING, S.P_SWITCHING, S.P_FINALIZING,
             S.P_DELETING_SOURCE, S.P_FOLDING, S.P_DONE], path('a1'))

    def test_only_phases_before_the_switch_roll_back(self):
        self.assertEqual((S.P_QUEUED, S.P_CREATING_DESTINATION,
                          S.P_FREEZING, S.P_COPYING), machine.ROLLS_BACK)
        self.assertEqual(machine.ROLLS_BACK, machine.CANCELLABLE)
        for phase in (S.P_SWITCHING, S.P_FINALIZING, S.P_FOLDING):
            self.assertRaises(exception.MigratorException,
                              machine.check_move, phase, S.P_ROLLING_BACK)
        machine.check_move(S.P_COPYING, S.P_ROLLING_BACK)

    def test_moves_not_in_the_table_are_refused(self):
        self.assertRaises(exception.MigratorException, machine.check_move,
                          S.P_QUEUED, S.P_COPYING)
        self.assertRaises(exception.MigratorException, machine.check_move,
                          S.P_DONE, S.P_QUEUED)

    def test_statuses(self):
        self.assertEqual(S.M_MIGRATING, machine.status_of(S.P_COPYING))
        self.assertIsNone(machine.status_of(S.P_ROLLING_BACK))
