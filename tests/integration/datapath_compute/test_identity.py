"""Only the hosts a migration names connect: an export refuses any
other identity, and the agent says so without leaving anything
behind."""

import os
import subprocess
import uuid as uuid_mod

from migrator_api.common import exception
from migrator_testing import pki
from tests.integration.compute import base
from tests.integration.datapath_compute import base as nbd_base
from tests.integration.datapath_compute import fixtures_nbd

NBD = nbd_base.NBD


class TestIdentity(nbd_base.NbdTestCase):

    def _not_for_us(self):
        """A volume of vol1 exported to vol2 alone."""
        return self.nbd.export('vol1', 4 * nbd_base.MiB,
                               allow=[pki.identity('vol2')])

    def test_attach_refused(self):
        uuid = self.lv.create_domain()
        vol = self._not_for_us()
        aid = str(uuid_mod.uuid4())
        e = self.assertRaises(exception.ComputeError,
                              self.driver.attach_volume, uuid, aid,
                              vol.connection_info)
        self.assertIn('cannot reach the NBD export nbd://%s:%d/%s'
                      % (vol.host.address, vol.port, vol.export), str(e))
        self.assertIsNone(self.driver.journal.load(aid))
        self.assertEqual([], self.live_chain(uuid, 'sda'))
        self.assert_no_bridges()

    def test_other_credentials_refused(self):
        """The export's authorization list is what keeps a host out,
        whatever it holds from the same CA."""
        vol = self.make_volume(NBD, size=4 * nbd_base.MiB)
        intruder = self.nbd.issue('intruder')
        for tls_dir, allowed in ((self.nbd.compute_tls, True),
                                 (intruder, False)):
            out = subprocess.run(
                ['qemu-img', 'info', '--object',
                 'tls-creds-x509,id=tls0,endpoint=client,dir=%s' % tls_dir,
                 '--image-opts', vol.image_opts()],
                capture_output=True, text=True)
            self.assertEqual(allowed, out.returncode == 0, out.stderr)
        # Without TLS, the server does not even talk.
        out = subprocess.run(['qemu-img', 'info', 'nbd://%s:%d/%s' % (
            vol.host.address, vol.port, vol.export)], capture_output=True)
        self.assertNotEqual(0, out.returncode)

    def test_complete_onto_a_refusing_destination(self):
        uuid = self.lv.create_domain()
        src = self.make_volume(NBD)
        aid, target = self.attach(uuid, src)
        model = bytearray(src.read())
        w = self.writer(uuid, target, model, seed=21)
        w.start()
        w.wait_for(3)
        self.driver.migration_start(uuid, aid)
        w.wait_for(3)
        bad = self.nbd.export('vol2', src.size, data=bytes(src.size),
                              allow=[pki.identity('vol1')])
        self.assertRaises(exception.ComputeError,
                          self.driver.migration_complete, uuid, aid, 'bad',
                          bad.connection_info)
        # Still frozen, as it was: complete may come again, or cancel.
        self.assertEqual('frozen', self.driver.migration_state(aid))
        self.assertEqual([self.bridge_of(aid)], self.running_bridges())
        self.assertEqual(['%s.overlay.qcow2' % aid],
                         os.listdir(self.driver.overlay_path))
        w.wait_for(3)
        good = self.make_volume(NBD, data=bytes(src.size), host='vol2')
        self.freeze_copy(src, good)
        done = base.Done()
        self.driver.migration_complete(uuid, aid, 'good', good.connection_info,
                                       on_done=done)
        w.wait_for(3)
        done.wait(self)
        w.stop()
        self.flush(uuid, target)
        self.assert_data(good, model)
        self.driver.detach_volume(uuid, 'good')
        self.assert_clean()
        self.assert_no_bridges()

    def test_credentials_missing(self):
        uuid = self.lv.create_domain()
        vol = self.make_volume(NBD, size=4 * nbd_base.MiB)
        for tls_dir, reason in ((None, 'no [nbd] tls_dir'),
                                (self.tmp, 'lacks ca-cert.pem')):
            self.flags(group='nbd', tls_dir=tls_dir)
            e = self.assertRaises(exception.ComputeError,
                                  self.driver.attach_volume, uuid, 'a1',
                                  vol.connection_info)
            self.assertIn(reason, str(e))
        self.assertEqual([], self.driver.journal.records())
        self.assert_no_bridges()
        self.assertEqual([], fixtures_nbd.bridge_daemons(self.bridge_dir()))
