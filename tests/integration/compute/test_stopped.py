"""Migration of attachments of domains that are not running: the
stopped-domain lock, and live migrations whose domain went down before
they finished."""

import uuid as uuid_mod

from migrator_api.common import exception
from tests.integration.compute import base
from tests.integration import fixtures_libvirt as fl


class StoppedDomainChecks(object):
    """Migrations of a domain shut off at start: any libvirt driver."""

    def _locked_domain(self, src_kind, dst_kind):
        uuid = self.lv.create_domain(start=False)
        src = self.lv.make_volume(src_kind, size=4 * fl.MiB)
        dst = self.lv.make_volume(dst_kind, size=4 * fl.MiB,
                                  data=bytes(4 * fl.MiB))
        aid, target = self.attach(uuid, src)
        self.assertEqual({'mode': 'offline'},
                         self.driver.migration_start(uuid, aid))
        self.assertTrue(self.driver.is_busy(uuid))
        self.assertEqual('offline:locked', self.driver.migration_state(aid))
        # The lock is real: libvirt refuses to start the domain, whoever
        # asks, and says why.
        import libvirt
        e = self.assertRaises(libvirt.libvirtError,
                              self.lv.domain(uuid).create)
        self.assertIn('MIGRATION-IN-PROGRESS-%s' % aid, str(e))
        self.assertFalse(self.lv.domain(uuid).isActive())
        return uuid, src, dst, aid, target

    def _write_after_start(self, uuid, target, volume):
        """Start the domain, write through the guest, check the writes
        landed on ``volume``."""
        dom = self.lv.domain(uuid)
        dom.create()
        model = bytearray(volume.read())
        w = fl.GuestWriter(dom.name(), target, model, seed=7)
        dev = fl.device_id(dom, target)
        for _ in range(10):
            w.write_one(dom, dev)
        fl.guest_flush(dom, target)
        self.assert_data(volume, model)

    def test_complete_swaps_the_definition(self):
        uuid, src, dst, aid, target = self._locked_domain('file', 'block')
        frozen = self.freeze_copy(src, dst)
        dst_aid = str(uuid_mod.uuid4())
        done = base.Done()
        self.driver.migration_complete(uuid, aid, dst_aid,
                                       dst.connection_info, on_done=done)
        done.wait(self)
        self.assert_on(uuid, target, dst, live=False)
        self.assert_clean()
        self.assertFalse(self.driver.is_busy(uuid))
        self.assertEqual(aid,
                         self.driver.journal.load(dst_aid)['migrated_from'])
        # Repeating the complete is harmless.
        again = base.Done()
        self.driver.migration_complete(uuid, aid, dst_aid,
                                       dst.connection_info, on_done=again)
        again.wait(self)
        self._write_after_start(uuid, target, dst)
        self.assertEqual(frozen, src.read())

    def test_cancel_restores_the_definition(self):
        uuid, src, dst, aid, target = self._locked_domain('block', 'file')
        done = base.Done()
        self.driver.migration_cancel(uuid, aid, on_done=done)
        done.wait(self)
        self.assert_on(uuid, target, src, live=False)
        self.assert_clean()
        self.assertFalse(self.driver.is_busy(uuid))
        self.assertRaises(exception.Conflict, self.driver.migration_complete,
                          uuid, aid, 'x', dst.connection_info)
        self._write_after_start(uuid, target, src)


class TestStoppedDomain(StoppedDomainChecks, base.LibvirtTestCase):

    def _live_then_down(self, kind, persistent=True):
        """Live start with writes, then the domain goes away (a clean
        guest shutdown: the guest flushed)."""
        uuid = self.lv.create_domain(persistent=persistent)
        src = self.lv.make_volume(kind)
        dst = self.lv.make_volume(kind, data=bytes(src.size))
        aid, target = self.attach(uuid, src)
        model = bytearray(src.read())
        w = self.writer(uuid, target, model, seed=8)
        self.write_some(w, uuid)
        self.driver.migration_start(uuid, aid)
        self.write_some(w, uuid, 20)
        self.flush(uuid, target)
        self.lv.domain(uuid).destroy()
        return uuid, src, dst, aid, target, model

    def test_domain_stopped_during_migration_complete(self):
        uuid, src, dst, aid, target, model = self._live_then_down('block')
        frozen = self.freeze_copy(src, dst)
        done = base.Done()
        self.driver.migration_complete(uuid, aid, aid + '-dst',
                                       dst.connection_info, on_done=done)
        done.wait(self)
        steps = [s for s, _t in self.driver.journal.load(
            aid + '-dst')['migration_history']]
        self.assertIn('complete:cold-rebase', steps)
        self.assertIn('fold:cold-commit', steps)
        self.assert_data(dst, model)
        self.assertEqual(frozen, src.read())
        self.assert_on(uuid, target, dst, live=False)
        self.assert_clean()
        self._write_after_start(uuid, target, dst)

    def test_domain_stopped_during_migration_cancel(self):
        uuid, src, dst, aid, target, model = self._live_then_down('file')
        done = base.Done()
        self.driver.migration_cancel(uuid, aid, on_done=done)
        done.wait(self)
        self.assert_data(src, model)
        self.assert_on(uuid, target, src, live=False)
        self.assert_clean()
        self._write_after_start(uuid, target, src)

    def test_transient_domain_destroyed_during_migration(self):
        uuid, src, dst, aid, target, model = self._live_then_down(
            'file', persistent=False)
        self.freeze_copy(src, dst)
        done = base.Done()
        self.driver.migration_complete(uuid, aid, aid + '-dst',
                                       dst.connection_info, on_done=done)
        done.wait(self)
        self.assert_data(dst, model)
        self.assert_clean()
