"""Fields the migration view derives."""

import types

from migrator_api.api.controllers.v1 import migrations
from migrator_api.common import states
from tests import base


def mig(status=states.M_MIGRATING, done=0, total=1000, rate=None):
    return types.SimpleNamespace(status=status, bytes_done=done,
                                 bytes_total=total, rate_bps=rate)


class DerivedFieldsTest(base.TestCase):

    def test_percentage(self):
        self.assertEqual(0.0, migrations.percentage(mig()))
        self.assertEqual(33.3, migrations.percentage(mig(done=333)))
        self.assertEqual(66.7, migrations.percentage(mig(done=667)))
        self.assertEqual(100.0, migrations.percentage(mig(done=1000)))
        self.assertEqual(100.0, migrations.percentage(mig(done=2000)))
        self.assertEqual(0.0, migrations.percentage(mig(total=0)))
        self.assertEqual(100.0, migrations.percentage(
            mig(status=states.M_SUCCESS, total=0)))

    def test_eta(self):
        self.assertIsNone(migrations.eta_seconds(mig()))
        self.assertIsNone(migrations.eta_seconds(mig(rate=0)))
        self.assertEqual(10, migrations.eta_seconds(mig(rate=100)))
        self.assertEqual(4, migrations.eta_seconds(mig(done=601, rate=100)))
        self.assertEqual(0, migrations.eta_seconds(mig(done=1000, rate=10)))
        for status in states.MIGRATION_FINISHED:
            self.assertIsNone(migrations.eta_seconds(mig(status=status,
                                                         rate=100)))
