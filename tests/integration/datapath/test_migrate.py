"""Migrations between backends of different hosts, end to end through the
API: the source is exported by its host's worker, the destination's
worker reads it over NBD with TLS, and the export lives only while the
copy needs it."""

import os
import time

from migrator_api.db import api as db_api
from migrator_volume.copy import nbdio
from migrator_volume.exports import daemon
from tests import base as tests_base
from tests.functional.flows import base as flows_base
from tests.integration.datapath import base
from tests.integration.datapath import fixtures as dfix
from tests.integration.datapath import system

MiB = base.MiB
HOLES = [(0, 8 * MiB), (24 * MiB, 16 * MiB), (56 * MiB, 8 * MiB)]


class CrossHostTestCase(flows_base.FlowTestCase):
    """Hosts vol1 (backend f1) and vol2 (backend f2), both with [nbd]."""

    HOSTS = ('vol1', 'vol2')
    OUTSIDE = ('cmp1', 'evil')
    NBD = None
    COMPUTE = ()

    def setUp(self):
        tests_base.TestCase.setUp(self)
        self.hosts = self.useFixture(dfix.Hosts(
            os.path.join(self.state_path, 'pki'), self.HOSTS, self.OUTSIDE))
        self.system = self.useFixture(system.System(
            self, self.hosts, self.workers(), nbd=self.NBD,
            interval=self.INTERVAL, bps_limit=self.BPS_LIMIT,
            compute=self.COMPUTE))
        self.app = self.system.app

    def workers(self):
        return {'vol1': {'f1': {'backend_type': 'file'}},
                'vol2': {'f2': {'backend_type': 'file'}}}

    def daemons(self, host):
        return base.daemons(self.hosts.hosts[host])

    def assert_no_daemons(self):
        for host in self.hosts.hosts:
            self.assertEqual([], self.daemons(host), host)
        for worker in self.system.workers.values():
            self.assertEqual([], worker.exports.names())

    def copier(self, migration_id):
        return self.system.workers['vol2']._jobs[migration_id]._copier

    def volume_files(self, backend_dir):
        return sorted(n for n in os.listdir(backend_dir)
                      if n.startswith('volume-'))


class TestFileToFile(CrossHostTestCase):

    def test_every_byte_over_nbd_and_sparse(self):
        size = 64 * MiB
        vol = self.create_volume(size, 'f1')
        src = self.path_of(vol)
        expected = self.write_pattern(src, size, seed=5, holes=HOLES)
        mig = self.migrate(vol['id'], 'f2')
        final, _ = self.wait_migration(mig['id'])
        self.assertEqual('success', final['status'], final)
        self.assertIsInstance(self.copier(mig['id']), nbdio.NbdCopier)
        after = self.get_volume(vol['id'])
        self.assertEqual('f2', after['backend'])
        dst = self.path_of(after)
        self.assertTrue(dst.startswith(os.path.join(self.state_path,
                                                    'vol2')), dst)
        self.assert_same_bytes(expected, dst)
        allocated = os.stat(dst).st_blocks * 512
        self.assertLessEqual(allocated, 33 * MiB,
                             'holes were written out: %d bytes allocated'
                             % allocated)
        fd = os.open(dst, os.O_RDONLY)
        try:
            self.assertEqual(8 * MiB, os.lseek(fd, 0, os.SEEK_DATA))
            self.assertEqual(24 * MiB, os.lseek(fd, 8 * MiB, os.SEEK_HOLE))
        finally:
            os.close(fd)
        self.assertFalse(os.path.exists(src), 'old data left behind')
        self.assert_no_daemons()
        self.assert_no_hidden_volumes()

    def test_no_data_path_without_nbd_on_both_hosts(self):
        # Hosts without [nbd] are the subject of NoNbdTestCase; here
        # the capability the workers report is what admission reads.
        backends = {b.name: b.capabilities['nbd']
                    for b in db_api.backend_get_all()}
        self.assertEqual({'f1': True, 'f2': True}, backends)


class TestThrottledCopies(CrossHostTestCase):

    BPS_LIMIT = 8 * MiB

    def test_progress_reports_and_limit(self):
        size = 32 * MiB
        vol = self.create_volume(size, 'f1')
        expected = self.write_pattern(self.path_of(vol), size, seed=6)
        started = time.monotonic()
        mig = self.migrate(vol['id'], 'f2')
        final, seen = self.wait_migration(mig['id'])
        elapsed = time.monotonic() - started
        self.assertEqual('success', final['status'], final)
        self.assertGreaterEqual(elapsed, 0.8 * size / self.BPS_LIMIT)
        progress = [p for _pub, event, p in self.system.notifications()
                    if event == 'volume.migration.progress']
        self.assertGreaterEqual(len(progress), 3, progress)
        done = [p['bytes_done'] for p in progress]
        self.assertEqual(sorted(done), done)
        self.assertTrue(0 < done[0] < size, done)
        self.assertIn('migrating', seen)
        self.assert_same_bytes(expected,
                               self.path_of(self.get_volume(vol['id'])))
        self.assert_no_daemons()

    def test_cancel_mid_copy(self):
        size = 48 * MiB
        vol = self.create_volume(size, 'f1')
        src = self.path_of(vol)
        expected = self.write_pattern(src, size, seed=7)
        mig = self.migrate(vol['id'], 'f2')
        self.wait_copy_started(mig['id'])
        self.assertEqual(1, len(self.daemons('vol1')))
        self.cancel(mig['id'])
        final, _ = self.wait_migration(mig['id'])
        self.assertEqual('cancelled', final['status'], final)
        self.assertLess(final['bytes_done'], size)
        self.assertEqual([], self.volume_files(
            os.path.join(self.state_path, 'vol2', 'f2')))
        after = self.get_volume(vol['id'])
        self.assertEqual('f1', after['backend'])
        self.assert_same_bytes(expected, src)
        self.assert_no_daemons()
        self.assert_no_hidden_volumes()

    def test_export_lost_mid_copy_rolls_back(self):
        size = 48 * MiB
        vol = self.create_volume(size, 'f1')
        src = self.path_of(vol)
        expected = self.write_pattern(src, size, seed=8)
        mig = self.migrate(vol['id'], 'f2')
        self.wait_copy_started(mig['id'])
        exports = self.system.workers['vol1'].exports
        daemon.stop(exports.journal.entries()[0])
        final, _ = self.wait_migration(mig['id'])
        self.assertEqual('error', final['status'], final)
        self.assertIn('nbd://', final['error'])
        self.assertEqual([], self.volume_files(
            os.path.join(self.state_path, 'vol2', 'f2')))
        self.assert_same_bytes(expected, src)
        self.assert_no_daemons()
        self.assertEqual([], os.listdir(exports.journal.path))

    def test_destination_worker_restarts_mid_copy(self):
        # The copy resumes from its watermark, through the same export.
        size = 48 * MiB
        vol = self.create_volume(size, 'f1')
        expected = self.write_pattern(self.path_of(vol), size, seed=9)
        mig = self.migrate(vol['id'], 'f2')
        self.wait_copy_started(mig['id'])
        self.system.crash_worker('vol2')
        entry = self.system.workers['vol2'].journal.get(mig['id'])
        self.system.start_worker('vol2')
        final, _ = self.wait_migration(mig['id'])
        self.assertEqual(('success', None), (final['status'],
                                             final['error']), final)
        self.assert_same_bytes(expected,
                               self.path_of(self.get_volume(vol['id'])))
        job = self.system.workers['vol2']._jobs[mig['id']]
        self.assertEqual([entry['watermark']], job.resumed_from)
        self.assertLessEqual(job.recopied,
                             entry['reserved'] - entry['watermark'])
        self.assert_no_daemons()
        self.assert_no_hidden_volumes()

    def test_destination_worker_restarts_and_cannot_resume(self):
        # Its destination vanished meanwhile: rolled back, as before.
        size = 48 * MiB
        vol = self.create_volume(size, 'f1')
        expected = self.write_pattern(self.path_of(vol), size, seed=11)
        mig = self.migrate(vol['id'], 'f2')
        self.wait_copy_started(mig['id'])
        self.system.crash_worker('vol2')
        dst = db_api.volume_get(
            db_api.migration_get(mig['id']).dest_volume_id,
            include_hidden=True)
        os.unlink(dst.location['data']['path'])
        self.system.start_worker('vol2')
        final, _ = self.wait_migration(mig['id'])
        self.assertEqual('error', final['status'], final)
        self.assertIn('interrupted', final['error'])
        self.assertIn('cannot resume', final['error'])
        self.assert_same_bytes(expected, self.path_of(vol))
        self.assert_no_daemons()
        self.assert_no_hidden_volumes()

    def test_source_worker_restarts_mid_copy(self):
        # The export's daemon outlives its worker: the copy goes on, and
        # the worker's next run closes the export when asked.
        size = 32 * MiB
        vol = self.create_volume(size, 'f1')
        expected = self.write_pattern(self.path_of(vol), size, seed=10)
        mig = self.migrate(vol['id'], 'f2')
        self.wait_copy_started(mig['id'])
        self.system.crash_worker('vol1')
        self.system.start_worker('vol1', reclaim_timeout=0)
        final, _ = self.wait_migration(mig['id'])
        self.assertEqual('success', final['status'], final)
        self.assert_same_bytes(expected,
                               self.path_of(self.get_volume(vol['id'])))
        self.assert_no_daemons()


class TestFileToBlock(CrossHostTestCase):

    def workers(self):
        devices = flows_base.make_loop_devices(self, 2, 40 * MiB)
        return {'vol1': {'f1': {'backend_type': 'file'}},
                'vol2': {'b2': {'backend_type': 'block',
                                'block_devices': devices}}}

    def test_every_byte_onto_a_device_of_another_host(self):
        size = 40 * MiB
        vol = self.create_volume(size, 'f1')
        holes = [(0, 4 * MiB), (20 * MiB, 8 * MiB)]
        expected = self.write_pattern(self.path_of(vol), size, seed=11,
                                      holes=holes)
        final, _ = self.wait_migration(self.migrate(vol['id'], 'b2')['id'])
        self.assertEqual('success', final['status'], final)
        dst = self.path_of(self.get_volume(vol['id']))
        self.assertTrue(dst.startswith('/dev/loop'), dst)
        self.assert_same_bytes(expected, dst)
        self.assert_no_daemons()


class TestHostsWithoutNbd(CrossHostTestCase):
    """vol2's worker has no [nbd]: nothing crosses to or from it."""

    NBD = ('vol1',)

    def test_refused_before_anything_is_done(self):
        vol = self.create_volume(4 * MiB, 'f1')
        resp = self.app.post_json('/v1/migrations', {'migration': {
            'volume_id': vol['id'], 'backend': 'f2'}}, status=409)
        error = resp.json['errors'][0]
        self.assertEqual('migrator.no_data_path', error['code'])
        self.assertIn('no data path', error['detail'])
        self.assertEqual([], db_api.migration_get_all())
        self.assert_no_daemons()
