"""Volumes of other hosts attached to domains that are not running: a
live migration whose domain went down finishes with qemu-img over NBD
(through the bridges, TLS on the wire) under the lock; the
libvirt-offline driver migrates a shut-off domain's nbd volume."""

import libvirt

from migrator_compute.drivers import base as drv_base
from tests.integration.compute import base
from tests.integration.compute import test_stopped
from tests.integration.datapath_compute import base as nbd_base

NBD = nbd_base.NBD


def _steps(driver, aid):
    return [s for s, _t in driver.journal.load(aid)['migration_history']]


def _start_and_write(test, uuid, target, volume):
    """Start the domain, write through the guest, check the writes
    landed on ``volume``."""
    test_stopped.StoppedDomainChecks._write_after_start(test, uuid, target,
                                                        volume)


class TestColdNbd(nbd_base.NbdTestCase):

    def _live_then_down(self, src_kind, dst_kind, seed):
        uuid = self.lv.create_domain()
        src = self.make_volume(src_kind)
        dst = self.make_volume(dst_kind, data=bytes(src.size))
        aid, target = self.attach(uuid, src)
        model = bytearray(src.read())
        w = self.writer(uuid, target, model, seed=seed)
        self.write_some(w, uuid)
        self.driver.migration_start(uuid, aid)
        self.write_some(w, uuid, 20)
        self.flush(uuid, target)
        self.lv.domain(uuid).destroy()
        return uuid, src, dst, aid, target, model

    def _cold_complete(self, src_kind, dst_kind, seed):
        uuid, src, dst, aid, target, model = self._live_then_down(
            src_kind, dst_kind, seed)
        frozen = self.freeze_copy(src, dst)
        done = base.Done()
        self.driver.migration_complete(uuid, aid, aid + '-dst',
                                       dst.connection_info, on_done=done)
        self.assertNotIn(self.bridge_of(aid), self.running_bridges())
        done.wait(self)
        steps = _steps(self.driver, aid + '-dst')
        self.assertIn('complete:cold-rebase', steps)
        self.assertIn('fold:cold-commit', steps)
        self.assert_data(dst, model)
        self.assertEqual(frozen, src.read())
        self.assert_on(uuid, target, dst, live=False)
        self.assert_clean()
        # The domain starts on the destination (its bridge) and writes
        # land there.
        _start_and_write(self, uuid, target, dst)
        self.assert_on(uuid, target, dst)
        self.driver.detach_volume(uuid, aid + '-dst')
        self.assert_no_bridges()

    def test_nbd_to_nbd(self):
        self._cold_complete(NBD, NBD, 31)

    def test_file_to_nbd(self):
        self._cold_complete('file', NBD, 32)

    def test_nbd_to_block(self):
        self._cold_complete(NBD, 'block', 33)

    def test_cancel_onto_the_nbd_source(self):
        uuid, src, dst, aid, target, model = self._live_then_down(
            NBD, NBD, 34)
        done = base.Done()
        self.driver.migration_cancel(uuid, aid, on_done=done)
        done.wait(self)
        self.assertIn('cancel:cold-commit',
                      [s for s, _t in self.driver.journal.load(
                          aid)['last_migration']['history']])
        self.assert_data(src, model)
        self.assert_on(uuid, target, src, live=False)
        self.assert_clean()
        _start_and_write(self, uuid, target, src)
        self.driver.detach_volume(uuid, aid)
        self.assert_no_bridges()


class TestOfflineDriverNbd(nbd_base.NbdTestCase):

    def new_driver(self):
        self.flags(group='compute', driver='libvirt-offline')
        driver = drv_base.load_driver(self.conf)
        self.addCleanup(driver.cleanup)
        return driver

    def _locked(self, dst_kind):
        uuid = self.lv.create_domain(start=False)
        src = self.make_volume(NBD, size=4 * nbd_base.MiB)
        dst = self.make_volume(dst_kind, size=4 * nbd_base.MiB,
                               data=bytes(4 * nbd_base.MiB))
        aid, target = self.attach(uuid, src)
        self.assertEqual({'mode': 'offline'},
                         self.driver.migration_start(uuid, aid))
        e = self.assertRaises(libvirt.libvirtError,
                              self.lv.domain(uuid).create)
        self.assertIn('MIGRATION-IN-PROGRESS-%s' % aid, str(e))
        return uuid, src, dst, aid, target

    def _complete(self, dst_kind):
        uuid, src, dst, aid, target = self._locked(dst_kind)
        frozen = self.freeze_copy(src, dst)
        done = base.Done()
        self.driver.migration_complete(uuid, aid, aid + '-dst',
                                       dst.connection_info, on_done=done)
        self.assertNotIn(self.bridge_of(aid), self.running_bridges())
        done.wait(self)
        self.assert_on(uuid, target, dst, live=False)
        self.assert_clean()
        _start_and_write(self, uuid, target, dst)
        self.assertEqual(frozen, src.read())
        self.driver.detach_volume(uuid, aid + '-dst')
        self.assert_no_bridges()

    def test_complete_onto_nbd(self):
        self._complete(NBD)

    def test_complete_onto_file(self):
        self._complete('file')

    def test_cancel(self):
        uuid, src, dst, aid, target = self._locked(NBD)
        done = base.Done()
        self.driver.migration_cancel(uuid, aid, on_done=done)
        done.wait(self)
        self.assert_on(uuid, target, src, live=False)
        self.assert_clean()
        _start_and_write(self, uuid, target, src)
        self.driver.detach_volume(uuid, aid)
        self.assert_no_bridges()
