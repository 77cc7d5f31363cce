"""Shared scaffolding of the tests of attached volumes on other hosts:
the compute tests' libvirt scaffolding, plus volume hosts exporting
over NBD with TLS (``fixtures_nbd``)."""

import os
import signal

from tests.integration.compute import base as compute_base
from tests.integration.datapath_compute import fixtures_nbd
from tests.integration import fixtures_libvirt as fl

MiB = fl.MiB
NBD = 'nbd'


class NbdTestCase(compute_base.LibvirtTestCase):

    def setUp(self):
        super().setUp()
        self.nbd = self.useFixture(fixtures_nbd.NbdHosts(self.tmp))
        self.flags(group='nbd', tls_dir=self.nbd.compute_tls)
        self._next_host = 0
        self.addCleanup(self._kill_bridges)

    def _kill_bridges(self):
        """A failed test may leave bridges running: not the next one."""
        for pid in fixtures_nbd.bridge_daemons(self.bridge_dir()):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def make_volume(self, kind='file', size=16 * MiB, data=None, host=None):
        """``kind`` ``nbd``: a volume of a volume host (in turn vol1 and
        vol2 unless ``host`` is given)."""
        if kind != NBD:
            return super().make_volume(kind, size=size, data=data)
        if host is None:
            names = self.nbd.names
            host = names[self._next_host % len(names)]
            self._next_host += 1
        return self.nbd.export(host, size, data)

    def volume_path(self, volume):
        """An nbd volume is the socket of its attachment's bridge."""
        if volume.kind != NBD:
            return super().volume_path(volume)
        for record in self.driver.journal.records():
            if record['connection_info'] == volume.connection_info and \
                    record.get('bridge'):
                return os.path.realpath(record['bridge']['socket'])
        self.fail('no attachment of %r' % volume)

    def freeze_copy(self, src, dst):
        if NBD not in (src.kind, dst.kind):
            return super().freeze_copy(src, dst)
        self.nbd.copy(src, dst)
        return src.read()

    # -- bridges ------------------------------------------------------------

    def bridge_dir(self, driver=None):
        return (driver or self.driver).ctx.bridges.path

    def bridge_of(self, aid, driver=None):
        return (driver or self.driver).ctx.bridges.socket(aid)

    def running_bridges(self, driver=None):
        return (driver or self.driver).ctx.bridges.sockets()

    def assert_no_bridges(self, driver=None):
        """No bridge daemon of the agent runs; none of its files is left."""
        directory = self.bridge_dir(driver)
        self.assertEqual([], fixtures_nbd.bridge_daemons(directory))
        self.assertEqual([], os.listdir(directory))
