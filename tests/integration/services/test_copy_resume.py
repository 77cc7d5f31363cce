"""A volume worker process killed -9 in the middle of a copy and started
again (over RabbitMQ, two conductors, MariaDB): the copy resumes from
its recorded watermark, the migration succeeds, every byte is compared,
and the worker's log says how many bytes it copied twice, which stays
within a mark interval plus what the copy hands out ahead of its
watermark."""

import json
import os
import re

from tests import base
from tests.integration.services import deployment as dep

MiB = dep.MiB
SIZE = 48 * MiB     # 6 s at the deployment's 8 MiB/s
#: Marks every MiB; 2 requests in flight of at most 1 MiB (with the
#: throttle, pieces of 0.1 s: 0.8 MiB).
OPTIONS = {'volume_copy_mark_interval': 1, 'volume_copy_in_flight': 2,
           'file_copy_chunk_size': MiB}
#: What the copy hands out past its watermark: its requests in flight
#: (2), queued (twice as many) and the one being handed out.
AHEAD = (2 + 2 * 2 + 1) * MiB
_RESUMED = re.compile(r'Copy (\S+) resumed from offsets (\d+): (\d+) bytes '
                      r'copied twice at most')


class TestCopyResume(base.TestCase):

    def _entry(self, d, migration_id):
        path = os.path.join(d.state, 'vol1', 'volume-copies',
                            '%s.json' % migration_id)
        try:
            with open(path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def test_killed_worker_resumes_its_copy(self):
        d = self.useFixture(dep.Deployment(self, worker_options=OPTIONS))
        vol = d.create_volume(SIZE)
        data = d.write_pattern(vol)
        mig = d.migrate(vol['id'], 'file2')['migration']
        d.wait_for(lambda: (self._entry(d, mig['id']) or {}).get(
            'watermark', 0) >= 8 * MiB, 'a watermark of 8 MiB recorded',
            interval=0.02)
        d.procs['vol1'].kill()          # SIGKILL
        d.procs['vol1'].wait()
        entry = self._entry(d, mig['id'])
        watermark = entry['watermark']
        self.assertLess(watermark, SIZE)
        self.assertLessEqual(entry['reserved'] - watermark, MiB + AHEAD)

        d.start_worker()
        done = d.wait_migration(mig['id'])
        self.assertEqual(('success', None), (done['status'], done['error']))
        moved = d.api('GET', '/v1/volumes/%s' % vol['id'],
                      expect=200)[1]['volume']
        self.assertEqual('file2', moved['backend'])
        with open(d.path(moved), 'rb') as f:
            self.assertTrue(f.read() == data, 'the copy differs')
        self.assertFalse(os.path.exists(d.path(vol)))
        with open(os.path.join(d.state, 'vol1.log'), errors='replace') as f:
            resumed = [m.groups() for m in _RESUMED.finditer(f.read())]
        self.assertEqual(1, len(resumed), resumed)
        migration_id, offset, twice = resumed[0]
        self.assertEqual((mig['id'], watermark), (migration_id, int(offset)))
        self.assertLessEqual(int(twice), entry['reserved'] - watermark)
        self.assertLessEqual(int(twice), MiB + AHEAD)
        self.assertIsNone(self._entry(d, mig['id']))
