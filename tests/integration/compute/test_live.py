"""Live volume migration of running domains, against real libvirtd and
QEMU, with a guest writing before, between and during every step;
every byte is compared at the end."""

import os
import subprocess
import threading
import uuid as uuid_mod

from migrator_api.common import exception
from tests.integration.compute import base
from tests.integration import fixtures_libvirt as fl


class TestLiveMigration(base.LibvirtTestCase):

    def _complete(self, src_kind, dst_kind, persistent=True, seed=1):
        uuid = self.lv.create_domain(persistent=persistent)
        src = self.lv.make_volume(src_kind)
        dst = self.lv.make_volume(dst_kind, data=bytes(src.size))
        aid, target = self.attach(uuid, src)
        model = bytearray(src.read())
        w = self.writer(uuid, target, model, seed=seed)
        w.phase_fn = lambda: self.driver.migration_state(aid)
        self.write_some(w, uuid)                      # before
        w.start()
        w.wait_for(3)
        self.assertEqual({'mode': 'live'},
                         self.driver.migration_start(uuid, aid))  # during
        self.assertTrue(self.driver.is_busy(uuid))
        w.wait_for(3)                                 # between
        frozen = self.freeze_copy(src, dst)
        w.wait_for(3)
        self.assertEqual(frozen, src.read())          # nothing reached SRC
        dst_aid = str(uuid_mod.uuid4())
        done = base.Done()
        self.driver.migration_complete(uuid, aid, dst_aid,
                                       dst.connection_info, on_done=done)
        # Returned: the source is no longer referenced.
        name = self.lv.domain(uuid).name()
        self.assertNotIn(os.path.realpath(src.path),
                         fl.qemu_open_paths(name))
        self.assertNotIn(os.path.realpath(src.path),
                         self.live_chain(uuid, target))
        self.assertEqual(frozen, src.read())
        # The volume service may now delete the source.
        if src.kind == 'block':
            subprocess.run(['losetup', '-d', src.path], check=True)
        os.unlink(src.file)
        w.wait_for(3)
        done.wait(self)                               # fold-in finished
        w.wait_for(3)                                 # after
        w.stop()
        self.flush(uuid, target)
        self.assert_data(dst, model)
        again = base.Done()                           # idempotent
        self.driver.migration_complete(uuid, aid, dst_aid,
                                       dst.connection_info, on_done=again)
        again.wait(self)
        self.assert_on(uuid, target, dst, persistent=persistent)
        self.assert_clean()
        self.assertFalse(self.driver.is_busy(uuid))
        self.assertIsNone(self.driver.journal.load(aid))
        rec = self.driver.journal.load(dst_aid)
        self.assertEqual(aid, rec['migrated_from'])
        self.assertEqual(dst.connection_info, rec['connection_info'])
        self.assertGreater(w.phases[None], 0)       # before / after
        self.assertGreater(w.phases['frozen'], 0)
        self.record_phases(w)
        # The disk now belongs to the destination attachment.
        self.driver.detach_volume(uuid, dst_aid)
        self.assertEqual([], self.live_chain(uuid, target))
        timings = self.driver.timings[aid]
        for key in ('freeze', 'switch', 'fold'):
            self.assertIn(key, timings)

    def test_file_to_file(self):
        self._complete('file', 'file')

    def test_file_to_block(self):
        self._complete('file', 'block', seed=2)

    def test_block_to_file_transient(self):
        self._complete('block', 'file', persistent=False, seed=3)

    def test_block_to_block(self):
        self._complete('block', 'block', seed=4)

    def _cancel(self, kind, seed):
        uuid = self.lv.create_domain()
        src = self.lv.make_volume(kind)
        aid, target = self.attach(uuid, src)
        model = bytearray(src.read())
        w = self.writer(uuid, target, model, seed=seed)
        w.phase_fn = lambda: self.driver.migration_state(aid)
        self.write_some(w, uuid)
        w.start()
        w.wait_for(3)
        self.driver.migration_start(uuid, aid)
        w.wait_for(3)
        frozen = src.read()
        w.wait_for(5)
        self.assertEqual(frozen, src.read())
        done = base.Done()
        self.driver.migration_cancel(uuid, aid, on_done=done)
        w.wait_for(3)
        done.wait(self)
        w.wait_for(3)
        w.stop()
        self.flush(uuid, target)
        self.assert_data(src, model)
        self.assert_on(uuid, target, src)
        self.assert_clean()
        self.assertFalse(self.driver.is_busy(uuid))
        self.assertGreater(w.phases['frozen'], 0)
        self.record_phases(w)
        # A later complete fails; the attachment is still the source's.
        dst = self.lv.make_volume(kind, data=bytes(src.size))
        self.assertRaises(exception.Conflict, self.driver.migration_complete,
                          uuid, aid, str(uuid_mod.uuid4()),
                          dst.connection_info)
        self.assert_on(uuid, target, src)
        self.assertEqual(src.connection_info,
                         self.driver.journal.load(aid)['connection_info'])

    def test_cancel_file(self):
        self._cancel('file', 5)

    def test_cancel_block(self):
        self._cancel('block', 6)

    def test_two_volumes_of_one_domain_at_once(self):
        uuid = self.lv.create_domain()
        vols = [(self.lv.make_volume('file'), self.lv.make_volume('block')),
                (self.lv.make_volume('block'), self.lv.make_volume('file'))]
        disks = []
        for i, (src, dst) in enumerate(vols):
            aid, target = self.attach(uuid, src)
            model = bytearray(src.read())
            w = self.writer(uuid, target, model, seed=10 + i)
            w.start()
            disks.append((aid, target, src, dst, model, w))
        errors = []

        def migrate(aid, target, src, dst, model, w):
            try:
                w.wait_for(3)
                self.driver.migration_start(uuid, aid)
                w.wait_for(3)
                self.freeze_copy(src, dst)
                done = base.Done()
                self.driver.migration_complete(
                    uuid, aid, aid + '-dst', dst.connection_info,
                    on_done=done)
                w.wait_for(3)
                done.wait(self)
                w.wait_for(3)
            except BaseException as e:
                errors.append(e)
        threads = [threading.Thread(target=migrate, args=d) for d in disks]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual([], errors)
        for aid, target, src, dst, model, w in disks:
            w.stop()
            self.flush(uuid, target)
            self.assert_data(dst, model)
            self.assert_on(uuid, target, dst)
        self.assert_clean()
        self.assertFalse(self.driver.is_busy(uuid))

    def test_refused_when_source_attached_elsewhere(self):
        uuid1 = self.lv.create_domain()
        # QEMU itself refuses to open one (non-shareable) image in two
        # running domains, so the second one is shut off.
        uuid2 = self.lv.create_domain(start=False)
        src = self.lv.make_volume('file', size=4 * fl.MiB)
        aid1, _t = self.attach(uuid1, src)
        aid2, _t = self.attach(uuid2, src)
        for uuid, aid in ((uuid1, aid1), (uuid2, aid2)):
            e = self.assertRaises(exception.MultiAttachRefused,
                                  self.driver.migration_start, uuid, aid)
            self.assertIn(src.path, str(e))
        self.assertFalse(self.driver.is_busy(uuid1))
        self.assertEqual([], os.listdir(self.driver.overlay_path))

    def test_attach_detach_and_states(self):
        uuid = self.lv.create_domain()
        src = self.lv.make_volume('block', size=4 * fl.MiB)
        aid, target = self.attach(uuid, src)
        self.assertEqual('sda', target)
        # Repeating the attach is harmless.
        self.assertEqual(target, self.driver.attach_volume(
            uuid, aid, src.connection_info)['target'])
        other = self.lv.make_volume('file', size=4 * fl.MiB)
        aid2, target2 = self.attach(uuid, other)
        self.assertEqual('sdb', target2)
        self.assert_on(uuid, target2, other)
        self.assertRaises(exception.AttachmentNotFound,
                          self.driver.migration_start, uuid, 'nope')
        self.assertRaises(exception.Conflict, self.driver.migration_cancel,
                          uuid, aid)
        self.driver.migration_start(uuid, aid)
        self.assertEqual('frozen', self.driver.migration_state(aid))
        # start is idempotent; detach and a second start are refused.
        self.driver.migration_start(uuid, aid)
        self.assertRaises(exception.Conflict, self.driver.detach_volume,
                          uuid, aid)
        # Bad destinations are refused up front; the volume stays frozen.
        small = self.lv.make_volume('file', size=2 * fl.MiB)
        for ci in (small.connection_info,
                   {'driver_volume_type': 'file',
                    'data': {'path': small.path + '.missing'}},
                   src.connection_info):
            self.assertRaises(exception.InvalidInput,
                              self.driver.migration_complete, uuid, aid,
                              'dst', ci)
        self.assertEqual('frozen', self.driver.migration_state(aid))
        done = base.Done()
        self.driver.migration_cancel(uuid, aid, on_done=done)
        done.wait(self)
        again = base.Done()
        self.driver.migration_cancel(uuid, aid, on_done=again)
        again.wait(self)
        self.driver.detach_volume(uuid, aid)
        self.driver.detach_volume(uuid, aid2)
        self.assertEqual([], self.live_chain(uuid, target))
        self.assertEqual([], self.persistent_chain(uuid, target2))
        self.assertEqual([], self.driver.journal.records())
        self.assertFalse(self.driver.is_busy(uuid))
