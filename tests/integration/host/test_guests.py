"""OS-less guests on either accelerator: KVM where it works, TCG where
it does not (no /dev/kvm, or KVM refused), with real guest I/O."""

import os

import fixtures

from migrator_testing import guests
from tests import base
from tests.integration import fixtures_libvirt as fl

MiB = 1024 * 1024


class TestTCGGuests(base.TestCase):

    def setUp(self):
        super().setUp()
        self.lv = self.useFixture(fl.LibvirtFixture(self.state_path))

    def test_guest_without_kvm_runs_on_tcg_and_writes(self):
        self.useFixture(fixtures.EnvironmentVariable('MIGRATOR_DOMAIN_TYPE',
                                                     'qemu'))
        self.assertEqual('qemu', guests.domain_type(self.lv.conn))
        uuid = self.lv.create_domain()
        dom = self.lv.domain(uuid)
        self.assertIn("type='qemu'", dom.XMLDesc(0).replace('"', "'"))
        vol = self.lv.make_volume(size=4 * MiB, data=bytes(4 * MiB))
        dom.attachDeviceFlags(
            "<disk type='file' device='disk'><driver name='qemu' "
            "type='raw'/><source file='%s'/><target dev='sdb' bus='scsi'/>"
            "</disk>" % vol.path, 1)  # VIR_DOMAIN_AFFECT_LIVE
        guests.guest_write(dom, 'sdb', MiB, 64 * 1024, 0x5a)
        guests.guest_flush(dom, 'sdb')
        expected = bytearray(4 * MiB)
        expected[MiB:MiB + 64 * 1024] = b'\x5a' * 64 * 1024
        self.assertEqual(bytes(expected), vol.read())

    def test_no_kvm_device_means_tcg(self):
        # Whatever an earlier test of this process learnt about KVM (a
        # refusal is remembered) or was told, only the device counts here.
        self.useFixture(fixtures.MonkeyPatch(
            'migrator_testing.guests._kvm_refused', None))
        self.useFixture(fixtures.EnvironmentVariable(
            'MIGRATOR_DOMAIN_TYPE', None))
        self.useFixture(fixtures.MonkeyPatch(
            'migrator_testing.guests.KVM_DEVICE',
            os.path.join(self.state_path, 'no-such-kvm')))
        self.assertIn('no-such-kvm', guests.kvm_problem(self.lv.conn))
        self.assertEqual('qemu', guests.domain_type(self.lv.conn))
