"""The accelerator choice of the shared test guests, when KVM refuses a
domain that libvirt accepted (a fake connection: the refusal cannot be
provoked on a host where KVM works)."""

import fixtures
import libvirt

from migrator_testing import guests
from tests import base


class _Error(libvirt.libvirtError):
    """A libvirt error with this message: libvirtError itself takes the
    message of the thread's last libvirt error when one is set (an
    earlier test's, in a shared worker)."""

    def __init__(self, msg):
        Exception.__init__(self, msg)
        self.err = None


class _Domain:
    def __init__(self, conn, xml):
        self.conn, self.xml = conn, xml

    def create(self):
        if "type='kvm'" in self.xml:
            raise _Error(
                'internal error: process exited while connecting to '
                'monitor: Could not access KVM kernel module: Permission '
                'denied\nfailed to initialize kvm: Permission denied')

    def undefine(self):
        self.conn.undefined.append(self.xml)


class _Conn:
    def __init__(self):
        self.defined, self.undefined = [], []

    def defineXML(self, xml):
        self.defined.append(xml)
        return _Domain(self, xml)

    def getDomainCapabilities(self, *args):
        return '<domainCapabilities/>'


class TestKVMRefused(base.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MonkeyPatch(
            'migrator_testing.guests._kvm_refused', None))
        self.useFixture(fixtures.MonkeyPatch(
            'migrator_testing.guests.KVM_DEVICE', '/dev/null'))
        self.useFixture(fixtures.EnvironmentVariable('MIGRATOR_DOMAIN_TYPE'))

    def test_refused_kvm_falls_back_to_tcg_and_is_remembered(self):
        conn = _Conn()
        self.assertIsNone(guests.kvm_problem(conn))
        dom = guests.create_domain(conn, 'g1')
        self.assertIn("type='qemu'", dom.xml)
        self.assertEqual(1, len(conn.undefined))
        self.assertIn("type='kvm'", conn.undefined[0])
        self.assertIn('KVM refused', guests.kvm_problem(conn))
        dom = guests.create_domain(conn, 'g2')
        self.assertIn("type='qemu'", dom.xml)
        self.assertEqual(3, len(conn.defined))

    def test_other_errors_are_not_hidden(self):
        conn = _Conn()
        conn.defineXML = lambda xml: (_ for _ in ()).throw(
            _Error('domain already exists'))
        self.assertRaises(libvirt.libvirtError, guests.create_domain, conn,
                          'g1')
