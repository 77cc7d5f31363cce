"""What an export grants, and how the copy from another host reads what
its server describes (no daemon here: see tests/integration/datapath)."""

import inspect
import json

from migrator_api.common import exception
from migrator_api.rpcapi import payloads
from migrator_api.rpcapi import volume as volume_rpcapi
from migrator_testing import pki
from migrator_volume.copy import nbdio
from migrator_volume.exports import daemon
from migrator_volume.exports import journal
from migrator_volume.exports import tls
from migrator_volume import manager
from tests.unit.volume import base

MiB = base.MiB


class ExportGrantTestCase(base.VolumeTestCase):

    def setUp(self):
        super().setUp()
        self.flags(tls_dir='/etc/migrator/tls', group='nbd')
        self.journal = journal.ExportJournal(self.tmp)

    def command(self, clients, writable):
        name = payloads.export_name('v1', clients, writable)
        entry = self.journal.new_entry(name, 'v1', 'f1', '/dev/null', False,
                                       MiB, clients, writable, '10.0.0.5')
        entry['port'] = 10811
        argv = daemon.command(self.conf, entry)
        options = {}
        for flag, value in zip(argv[1::2], argv[2::2]):
            options.setdefault(flag, []).append(value)
        return argv, options

    def test_only_the_identities_of_the_clients(self):
        argv, options = self.command(['cmp1', 'vol2'], False)
        authz = json.loads(options['--object'][1])
        self.assertEqual('deny', authz['policy'])
        self.assertEqual(
            [{'match': 'O=migrator,CN=cmp1', 'policy': 'allow',
              'format': 'exact'},
             {'match': 'O=migrator,CN=vol2', 'policy': 'allow',
              'format': 'exact'}], authz['rules'])
        creds = json.loads(options['--object'][0])
        self.assertEqual({'qom-type': 'tls-creds-x509', 'id': 'tls0',
                          'endpoint': 'server', 'dir': '/etc/migrator/tls',
                          'verify-peer': True}, creds)
        server = json.loads(options['--nbd-server'][0])
        self.assertEqual({'type': 'inet', 'host': '10.0.0.5',
                          'port': '10811'}, server['addr'])
        self.assertEqual(('tls0', 'authz0'), (server['tls-creds'],
                                              server['tls-authz']))
        self.assertEqual('--daemonize', argv[-1])

    def test_read_only_unless_writable(self):
        _argv, ro = self.command(['vol2'], False)
        self.assertTrue(json.loads(ro['--blockdev'][0])['read-only'])
        self.assertFalse(json.loads(ro['--export'][0])['writable'])
        _argv, rw = self.command(['vol2'], True)
        blockdev = json.loads(rw['--blockdev'][0])
        self.assertFalse(blockdev['read-only'])
        self.assertEqual('unmap', blockdev['discard'])
        self.assertTrue(json.loads(rw['--export'][0])['writable'])

    def test_the_identity_rule_is_the_deployment_pki(self):
        for host in ('cmp1', 'vol-2.example'):
            self.assertEqual(pki.identity(host), tls.identity(host))
        for bad in ('a,CN=b', 'a b', '', None, 'a=b', '-a'):
            self.assertRaises(exception.InvalidInput, tls.identity, bad)

    def test_export_names_follow_the_grant(self):
        name = payloads.export_name('v1', ['b', 'a'], False)
        self.assertEqual(name, payloads.export_name('v1', ['a', 'b', 'a'],
                                                    False))
        self.assertTrue(name.startswith('v1.ro.'))
        others = {payloads.export_name('v1', ['a', 'b'], True),
                  payloads.export_name('v1', ['a'], False),
                  payloads.export_name('v2', ['a', 'b'], False)}
        self.assertEqual(3, len(others))
        self.assertNotIn(name, others)


class _PlanHandle:
    """A server describing ``extents`` [(length, flags)], at most
    ``per_answer`` of them per block status request."""

    def __init__(self, extents, per_answer=2):
        self.extents = extents
        self.per_answer = per_answer
        self.asked = []

    def block_status(self, count, offset, callback):
        self.asked.append((offset, count))
        pos, found = 0, []
        for length, flags in self.extents:
            if pos + length > offset:
                start = max(pos, offset)
                found += [pos + length - start, flags]
            pos += length
        callback(nbdio.nbd.CONTEXT_BASE_ALLOCATION, offset,
                 found[:2 * self.per_answer], 0)


class NbdExtentsTestCase(base.VolumeTestCase):

    def extents(self, described, size, per_answer=2):
        copier = nbdio.NbdCopier(payloads.nbd_location('10.0.0.5', 10809,
                                                       'v1', size),
                                 '/nonexistent', size)
        copier._plan_handle = _PlanHandle(described, per_answer)
        copier._has_status = True
        return list(copier._data_extents(0, size)), copier._plan_handle

    def test_zero_extents_are_skipped_and_data_merged(self):
        data, zero, hole = 0, 2, 3
        found, handle = self.extents(
            [(MiB, hole), (MiB, data), (MiB, 1), (2 * MiB, zero),
             (MiB, data)], 6 * MiB)
        # A hole that does not read as zero is data to copy.
        self.assertEqual([(MiB, 3 * MiB), (5 * MiB, 6 * MiB)], found)
        self.assertGreater(len(handle.asked), 1)

    def test_described_past_the_end(self):
        found, _handle = self.extents([(8 * MiB, 0)], 3 * MiB + 512)
        self.assertEqual([(0, 3 * MiB + 512)], found)

    def test_a_server_that_describes_nothing(self):
        self.assertRaises(exception.CopyFailed, self.extents, [], MiB)


class RPCVersionsTestCase(base.VolumeTestCase):

    def test_client_and_server_agree(self):
        self.assertEqual(volume_rpcapi.VolumeAPI.RPC_API_VERSION,
                         manager.VolumeManager.target.version)
        own = [name for name, _m in inspect.getmembers(
            volume_rpcapi.VolumeAPI, inspect.isfunction)
            if name in vars(volume_rpcapi.VolumeAPI)]
        self.assertIn('export_volume', own)
        for name in own:
            # The client's (ctxt, host, ...) is the server's (ctxt, ...).
            client = inspect.signature(getattr(volume_rpcapi.VolumeAPI,
                                               name))
            served = inspect.signature(getattr(manager.VolumeManager, name))
            self.assertEqual(list(client.parameters)[3:],
                             list(served.parameters)[2:], name)
            self.assertIn(name, volume_rpcapi.__doc__)
