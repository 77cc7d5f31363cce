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
        for phase in (S.P_FINALIZING, S.P_DELETING_SOURCE, S.P_FOLDING):
            self.assertRaises(exception.MigratorException,
                              machine.check_move, phase, S.P_ROLLING_BACK)
        machine.check_move(S.P_COPYING, S.P_ROLLING_BACK)

    def test_switching_rolls_back_only_when_the_agent_gave_up(self):
        # The agent rolled the guest back onto its source by itself: the
        # switch never happened.  Any other failure there is retried.
        self.assertFalse(machine.may_roll_back(S.P_SWITCHING))
        self.assertTrue(machine.may_roll_back(S.P_SWITCHING, given_up=True))
        self.assertFalse(machine.may_roll_back(S.P_FINALIZING,
                                               given_up=True))
        machine.check_move(S.P_SWITCHING, S.P_ROLLING_BACK)

    def test_moves_not_in_the_table_are_refused(self):
        self.assertRaises(exception.MigratorException, machine.check_move,
                          S.P_QUEUED, S.P_COPYING)
        self.assertRaises(exception.MigratorException, machine.check_move,
                          S.P_DONE, S.P_QUEUED)

    def test_statuses(self):
        self.assertEqual(S.M_MIGRATING, machine.status_of(S.P_COPYING))
        self.assertIsNone(machine.status_of(S.P_ROLLING_BACK))


Row = collections.namedtuple(
    'Row', 'id status created_at source_backend_id dest_backend_id '
           'compute_host')
HOSTS = {'b1': 'h1', 'b2': 'h1', 'b3': 'h2', 'b4': 'h2'}


def _row(n, status, src='b1', dst='b3', compute=None):
    return Row('m%d' % n, status, n, src, dst, compute)


class TestConcurrencyLimits(base.TestCase):
    """machine.waits_for: slots held by started migrations and reserved
    by those queued before, per worker host, backend and compute host."""

    def waits(self, mig, others, worker=0, backend=0, compute=0):
        return machine.waits_for(mig, others, HOSTS,
                                 machine.Limits(worker, backend, compute))

    def test_a_queued_migration_may_be_cancelled_at_once(self):
        machine.check_move(S.P_QUEUED, S.P_DONE)
        self.assertEqual(S.M_QUEUED, machine.status_of(S.P_QUEUED))
        self.assertIn(S.P_QUEUED, machine.CANCELLABLE)

    def test_unlimited_never_waits(self):
        mig = _row(9, S.M_QUEUED)
        self.assertIsNone(self.waits(mig, [_row(i, S.M_MIGRATING)
                                           for i in range(5)]))

    def test_started_ones_hold_the_worker_of_source_and_destination(self):
        mig = _row(9, S.M_QUEUED, 'b2', 'b4')    # h1 -> h2
        self.assertIn('volume worker h1', self.waits(
            mig, [_row(1, S.M_COMPLETING, 'b1', 'b1')], worker=1))
        self.assertIn('volume worker h2', self.waits(
            mig, [_row(1, S.M_CANCELLING, 'b4', 'b4')], worker=1))
        self.assertIsNone(self.waits(
            mig, [_row(1, S.M_MIGRATING, 'b1', 'b1')], worker=2))
        # Ended ones hold nothing.
        self.assertIsNone(self.waits(
            mig, [_row(1, S.M_SUCCESS, 'b1', 'b1')], worker=1))

    def test_a_backend_counts_as_source_and_as_destination(self):
        mig = _row(9, S.M_QUEUED, 'b1', 'b3')
        self.assertIn('backend b1', self.waits(
            mig, [_row(1, S.M_STARTING, 'b2', 'b1')], backend=1))
        self.assertIn('backend b3', self.waits(
            mig, [_row(1, S.M_STARTING, 'b3', 'b4')], backend=1))
        self.assertIsNone(self.waits(
            mig, [_row(1, S.M_STARTING, 'b2', 'b4')], backend=1))

    def test_compute_host(self):
        mig = _row(9, S.M_QUEUED, compute='c1')
        others = [_row(1, S.M_MIGRATING, 'b2', 'b4', compute='c1')]
        self.assertIn('compute host c1', self.waits(mig, others,
                                                    compute=1))
        self.assertIsNone(self.waits(_row(9, S.M_QUEUED, compute='c2'),
                                     others, compute=1))
        # A detached volume takes no compute slot.
        self.assertIsNone(self.waits(_row(9, S.M_QUEUED, 'b2', 'b4'),
                                     others, compute=1))

    def test_first_come_first_served(self):
        # An earlier queued migration keeps its place: a later one never
        # takes the slot it waits for, even when that one waits for
        # another slot too; a later queued one does not count.
        earlier = _row(1, S.M_QUEUED, 'b1', 'b3')
        later = _row(2, S.M_QUEUED, 'b2', 'b3')
        self.assertIsNone(self.waits(earlier, [earlier, later], worker=1))
        self.assertIn('1 migration(s) running or queued before it',
                      self.waits(later, [earlier, later], worker=1))
        self.assertIsNone(self.waits(later, [earlier, later], worker=2))
        # Same created_at: the id decides, the same for every conductor.
        twin = Row('m0', S.M_QUEUED, 2, 'b2', 'b3', None)
        self.assertIsNotNone(self.waits(later, [twin], worker=1))
        self.assertIsNone(self.waits(twin, [later], worker=1))
