"""A volume worker's NBD exports, served by real qemu-storage-daemon
processes inside a host, read over TLS from outside it."""

import os
import time

import nbd

from migrator_api.common import exception
from migrator_volume.exports import daemon
from tests.integration.datapath import base

MiB = base.MiB


class _Exports(base.DataPathTestCase):

    def setUp(self):
        super().setUp()
        self.vol1 = self.worker('vol1', reclaim_timeout=1)
        self.location = self.vol1.create_volume(None, 'f-vol1', 'v1',
                                                8 * MiB)
        self.path = self.location['data']['path']
        self.data = self.pattern(8 * MiB)
        with open(self.path, 'r+b') as f:
            f.write(self.data)

    def export(self, clients=('vol2',), writable=False, worker=None,
               volume_id='v1'):
        return (worker or self.vol1).export_volume(
            None, 'f-vol1', volume_id, self.location, list(clients),
            writable)

    def read(self, location, who='vol2', length=8 * MiB):
        handle = base.connect(location, self.hosts.tls_dir(who))
        try:
            return handle.pread(length, 0)
        finally:
            handle.shutdown()


class ExportTestCase(_Exports):

    def test_same_export_same_location_and_closed(self):
        location = self.export()
        self.assertEqual('nbd', location['driver_volume_type'])
        self.assertEqual(self.hosts.address('vol1'),
                         location['data']['host'])
        self.assertEqual(8 * MiB, location['data']['size'])
        pids = base.daemons(self.hosts.hosts['vol1'])
        self.assertEqual(1, len(pids))
        self.assertEqual(location, self.export())
        self.assertEqual(pids, base.daemons(self.hosts.hosts['vol1']))
        self.assertEqual(self.data, self.read(location))
        self.assertEqual([location['data']['export']],
                         self.vol1.unexport_volume(None, 'f-vol1', 'v1'))
        self.assertEqual([], self.vol1.unexport_volume(None, 'f-vol1',
                                                       'v1'))
        self.assert_no_daemons()
        self.assertEqual([], os.listdir(self.vol1.exports.journal.path))
        self.assertRaises(nbd.Error, self.read, location)

    def test_only_the_named_hosts_connect(self):
        location = self.export(clients=['vol2'])
        self.assertEqual(self.data[:4096], self.read(location,
                                                     length=4096))
        for who in ('evil', 'vol1'):
            self.assertRaises(nbd.Error, self.read, location, who, 4096)
        both = self.export(clients=['vol2', 'evil'])
        self.assertNotEqual(location['data']['port'], both['data']['port'])
        self.assertEqual(self.data[:4096], self.read(both, 'evil', 4096))

    def test_read_only_unless_writable(self):
        ro = self.export()
        handle = base.connect(ro, self.hosts.tls_dir('vol2'))
        self.assertTrue(handle.is_read_only())
        self.assertRaises(nbd.Error, handle.pwrite, b'x' * 4096, 0)
        handle.shutdown()
        rw = self.export(writable=True)
        handle = base.connect(rw, self.hosts.tls_dir('vol2'))
        handle.pwrite(b'w' * 4096, 4096)
        handle.flush()
        handle.shutdown()
        with open(self.path, 'rb') as f:
            self.assertEqual(b'w' * 4096, f.read(8192)[4096:])
        self.vol1.unexport_volume(None, 'f-vol1', 'v1', export=ro['data']
                                  ['export'])
        self.assertEqual([rw['data']['export']], self.vol1.exports.names())

    def test_bad_requests(self):
        for clients in ([], ['a,CN=vol2'], ['vol 2']):
            self.assertRaises(exception.InvalidInput, self.export, clients)
        self.assertRaises(exception.InvalidInput, self.vol1.export_volume,
                          None, 'f-vol1', 'v1',
                          {'driver_volume_type': 'file',
                           'data': {'path': '/etc/passwd'}}, ['vol2'])
        self.assertRaises(exception.BackendNotFound, self.vol1.export_volume,
                          None, 'nope', 'v1', self.location, ['vol2'])
        off = self.worker('vol2', nbd_enabled=False)
        location = off.create_volume(None, 'f-vol2', 'v2', MiB)
        self.assertRaises(exception.InvalidInput, off.export_volume, None,
                          'f-vol2', 'v2', location, ['vol1'])
        self.assertFalse(off._stats(off.backends['f-vol2'])['capabilities']
                         ['nbd'])
        self.assertTrue(self.vol1.get_backend_stats(None, 'f-vol1')
                        ['capabilities']['nbd'])
        self.assert_no_daemons()

    def test_misconfigured_worker_does_not_start(self):
        worker = self.worker('vol2', start=False, tls_dir='/nonexistent')
        self.assertRaises(exception.InvalidInput, worker.init_host)
        worker = self.worker('vol2', start=False, listen_address=None)
        self.assertRaises(exception.InvalidInput, worker.init_host)

    def test_deleting_the_volume_closes_its_exports(self):
        location = self.export()
        self.export(writable=True)
        self.vol1.delete_volume(None, 'f-vol1', 'v1', self.location)
        self.assert_no_daemons()
        self.assertEqual([], self.vol1.exports.names())
        self.assertRaises(nbd.Error, self.read, location)

    def test_port_taken_by_someone_else(self):
        # A daemon of another worker (same host) holds the first port.
        other = self.worker('vol1', state='other')
        taken = other.export_volume(
            None, 'f-vol1', 'v9',
            other.create_volume(None, 'f-vol1', 'v9', MiB), ['vol2'])
        mine = self.export()
        self.assertNotEqual(taken['data']['port'], mine['data']['port'])
        self.assertEqual(self.data, self.read(mine))
        other.unexport_volume(None, 'f-vol1', 'v9')


class RestartTestCase(_Exports):
    """What a worker that starts does with its previous run's exports."""

    def crash(self, worker):
        """The worker's process dies: its daemons live on."""
        del worker

    def test_leftovers_closed_unless_asked_again(self):
        kept = self.export()
        dropped = self.export(writable=True)
        pids = sorted(base.daemons(self.hosts.hosts['vol1']))
        self.crash(self.vol1)
        again = self.worker('vol1', reclaim_timeout=1)
        self.assertEqual(sorted([kept['data']['export'],
                                 dropped['data']['export']]),
                         again.exports.names())
        self.assertEqual(kept, self.export(worker=again))
        time.sleep(1.2)
        again.report_state()
        self.assertEqual([kept['data']['export']], again.exports.names())
        left = base.daemons(self.hosts.hosts['vol1'])
        self.assertEqual(1, len(left))
        self.assertIn(left[0], pids)
        self.assertEqual(self.data, self.read(kept))
        again.unexport_volume(None, 'f-vol1', 'v1')
        self.assert_no_daemons()

    def test_a_leftover_being_read_stays_until_its_client_leaves(self):
        location = self.export()
        client = base.connect(location, self.hosts.tls_dir('vol2'))
        self.crash(self.vol1)
        again = self.worker('vol1', reclaim_timeout=0)
        self.assertEqual(1, len(base.daemons(self.hosts.hosts['vol1'])))
        self.assertEqual(self.data[:4096], client.pread(4096, 0))
        client.shutdown()
        del client
        time.sleep(0.2)
        again.report_state()
        self.assert_no_daemons()
        self.assertEqual([], os.listdir(again.exports.journal.path))

    def test_dead_daemons_forgotten(self):
        location = self.export()
        self.crash(self.vol1)
        entry = self.vol1.exports.journal.entries()[0]
        daemon.stop(entry)
        again = self.worker('vol1')
        self.assertEqual([], again.exports.names())
        # Asked again: a new daemon, on the same port.
        self.assertEqual(location, self.export(worker=again))
        again.unexport_volume(None, 'f-vol1', 'v1')

    def test_stop_closes_what_nobody_reads(self):
        read = self.export()
        self.export(writable=True)
        client = base.connect(read, self.hosts.tls_dir('vol2'))
        self.vol1.cleanup_host()
        self.assertEqual([read['data']['export']], self.vol1.exports.names())
        self.assertEqual(self.data[:4096], client.pread(4096, 0))
        client.shutdown()
        del client
        time.sleep(0.2)
        again = self.worker('vol1', reclaim_timeout=0)
        again.report_state()
        self.assert_no_daemons()
