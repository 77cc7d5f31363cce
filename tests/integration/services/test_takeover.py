"""Two conductors: the one driving a migration is killed (SIGKILL) while
it waits for a step; the other takes the migration over once the
claim is older than ``[conductor] claim_timeout``, never before, and
the migration succeeds with every byte in place."""

import datetime
import os
import re
import time

from testtools import content

from tests import base
from tests.integration.services import deployment as dep

SIZE = 8 * dep.MiB
CLAIM_TIMEOUT = dep.OPTIONS['conductor']['claim_timeout']
_TAKEN = re.compile(r'^(\S+ \S+) .*Migration (\S+): taken over from '
                    r'conductor (\S+)', re.M)


class TestConductorTakeover(base.TestCase):

    def _holder(self, d, migration_id):
        row = d.row('SELECT phase, conductor_host FROM migrations WHERE '
                    'id = :id', id=migration_id)
        if row['phase'] == 'creating_destination' and row['conductor_host']:
            return row['conductor_host']

    def _taken_over_at(self, d, host, migration_id):
        """When the log of conductor ``host`` says it took the migration
        over (epoch seconds), or None."""
        with open(os.path.join(d.state, '%s.log' % host)) as f:
            for when, mig, _old in _TAKEN.findall(f.read()):
                if mig == migration_id:
                    return datetime.datetime.strptime(
                        when, '%Y-%m-%d %H:%M:%S.%f').timestamp()

    def test_killed_conductor_is_taken_over(self):
        slow = os.path.join(self.state_path, 'slow-create')
        d = self.useFixture(dep.Deployment(
            self, worker_env={'MIGRATOR_TEST_SLOW_CREATE': slow}))
        vol = d.create_volume(SIZE)
        data = d.write_pattern(vol)
        with open(slow, 'w') as f:
            f.write('5')     # seconds each create_volume takes from now
        mig = d.migrate(vol['id'], 'file2')['migration']
        holder = d.wait_for(lambda: self._holder(d, mig['id']),
                            'a conductor creating the destination')
        other = ({'cond1', 'cond2'} - {holder}).pop()
        d.procs[holder].kill()
        killed_at = time.time()
        os.unlink(slow)
        taken_at = d.wait_for(
            lambda: self._taken_over_at(d, other, mig['id']),
            'conductor %s to take the migration over' % other)
        # Not before the claim expired (renewed every second until the
        # kill), and the rest of the migration driven by the survivor.
        self.assertGreaterEqual(taken_at - killed_at, CLAIM_TIMEOUT - 1.5)
        self.addDetail('takeover-seconds', content.text_content(
            '%.2f' % (taken_at - killed_at)))
        done = d.wait_migration(mig['id'])
        self.assertEqual(('success', None), (done['status'], done['error']))
        moved = d.api('GET', '/v1/volumes/%s' % vol['id'],
                      expect=200)[1]['volume']
        self.assertEqual('file2', moved['backend'])
        with open(d.path(moved), 'rb') as f:
            self.assertTrue(f.read() == data, 'the copy differs')
        self.assertFalse(os.path.exists(d.path(vol)))
        # The dead conductor shows down, the survivor up.
        d.wait_for(lambda: {s['host'] for s in d.up_services()} ==
                   {other, 'vol1'}, 'the killed conductor down')
