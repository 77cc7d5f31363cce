"""Claims, one process (the functional system: SQLite, fake transport):
a migration another conductor holds is left to it until its claim
expires, then taken over; a report recorded while this conductor holds
the migration is driven on once it lets go."""

import datetime
import logging
from unittest import mock

import fixtures
from oslo_utils import timeutils

from migrator_api.common import states
from migrator_api.conductor import api as conductor_api
from migrator_api.conductor import claims
from migrator_api.conductor import migrate
from migrator_api.conductor import watchdog
from migrator_api.db import api as db_api
from tests.functional.flows import base

MiB = 1024 * 1024


class TestClaims(base.FlowTestCase):

    def setUp(self):
        super().setUp()
        self.flags(claim_timeout=30, group='conductor')
        self.logger = self.useFixture(fixtures.FakeLogger(level=logging.INFO))
        self.volume = self.create_volume(MiB)

    def _recorded(self, holder=None, age=0):
        """A migration recorded but not cast (nobody drives it yet),
        claimed by ``holder`` ``age`` seconds ago."""
        facts = conductor_api.migration_facts(self.volume['id'], 'file2')
        mig = conductor_api.record_migration(facts, False)
        if holder is not None:
            claimed_at = timeutils.utcnow() - datetime.timedelta(seconds=age)
            self.assertEqual([mig.id], db_api.migration_claims_update(
                [mig.id], {'conductor_host': holder,
                           'claimed_at': claimed_at},
                expected={'conductor_host': None}))
        return db_api.migration_get(mig.id)

    def test_a_live_claim_is_left_to_its_conductor(self):
        mig = self._recorded(holder='elsewhere', age=1)
        self.assertEqual(states.P_QUEUED, migrate.run(mig.id).phase)
        watchdog.sweep(startup=True)
        migrate.wait_idle()
        mig = db_api.migration_get(mig.id)
        self.assertEqual((states.P_QUEUED, 'elsewhere'),
                         (mig.phase, mig.conductor_host))
        self.assertFalse(claims.expired(mig))

    def test_an_expired_claim_is_taken_over(self):
        mig = self._recorded(holder='dead', age=31)
        self.assertTrue(claims.expired(mig))
        watchdog.sweep()
        done, _seen = self.wait_migration(mig.id)
        self.assertEqual('success', done['status'])
        mig = db_api.migration_get(mig.id)
        self.assertEqual((None, None), (mig.conductor_host, mig.claimed_at))
        self.assertIn('taken over from conductor dead',
                      self.logger.output)

    def test_a_report_recorded_while_held_is_driven_on(self):
        """What another conductor records while this one holds the
        migration (its own claim failed, so it drives nothing) is
        carried on by this one once it releases the claim."""
        mig = self._recorded()
        real = migrate._HANDLERS[states.P_QUEUED]

        def queued_then_wait(ctxt, mig):
            # The other conductor moves the migration on meanwhile, and
            # cannot claim it ...
            self.assertTrue(real(ctxt, mig))
            with mock.patch.object(claims, 'me', return_value='other'):
                self.assertFalse(claims.claim(db_api.migration_get(mig.id)))
            return False    # ... while this one waits.

        with mock.patch.dict(migrate._HANDLERS,
                             {states.P_QUEUED: queued_then_wait}):
            after = migrate.run(mig.id)
        # Driven on by this run (not by the watchdog, much later).
        self.assertNotIn(after.phase, (states.P_QUEUED,
                                       states.P_CREATING_DESTINATION))
        done, _seen = self.wait_migration(mig.id)
        self.assertEqual('success', done['status'])

    def test_renew_tells_what_was_taken_over(self):
        mig = self._recorded()
        self.assertTrue(claims.claim(mig))
        self.addCleanup(claims.release, mig.id)
        self.assertEqual([], claims.renew())
        db_api.migration_claims_update([mig.id], {'conductor_host': 'thief'},
                                       expected={})
        self.assertEqual([mig.id], claims.renew())
