"""Live migration of attached volumes that live on other hosts: the
guest reaches them over NBD with TLS through the agent's bridges, with
a guest writing before, between and during every step; every byte is
compared at the end."""

import os
import uuid as uuid_mod

from migrator_api.common import exception
from tests.integration.compute import base
from tests.integration.datapath_compute import base as nbd_base
from tests.integration import fixtures_libvirt as fl

NBD = nbd_base.NBD


class TestLiveNbd(nbd_base.NbdTestCase):

    def _frozen(self, src_kind, persistent=True, seed=1):
        uuid = self.lv.create_domain(persistent=persistent)
        src = self.make_volume(src_kind)
        aid, target = self.attach(uuid, src)
        if src_kind == NBD:
            self.assertEqual([self.bridge_of(aid)], self.running_bridges())
            self.assert_on(uuid, target, src, persistent=persistent)
        model = bytearray(src.read())
        w = self.writer(uuid, target, model, seed=seed)
        w.phase_fn = lambda: self.driver.migration_state(aid)
        self.write_some(w, uuid)                      # before
        w.start()
        w.wait_for(3)
        self.assertEqual({'mode': 'live'},
                         self.driver.migration_start(uuid, aid))  # during
        w.wait_for(3)                                 # between
        return uuid, src, aid, target, model, w

    def _complete(self, src_kind, dst_kind, persistent=True, seed=1):
        uuid, src, aid, target, model, w = self._frozen(src_kind, persistent,
                                                        seed)
        dst = self.make_volume(dst_kind, data=bytes(src.size))
        frozen = self.freeze_copy(src, dst)
        w.wait_for(3)
        self.assertEqual(frozen, src.read())          # nothing reached SRC
        dst_aid = str(uuid_mod.uuid4())
        done = base.Done()
        self.driver.migration_complete(uuid, aid, dst_aid,
                                       dst.connection_info, on_done=done)
        # Returned: the source is no longer referenced, its bridge gone.
        self.assertNotIn(self.bridge_of(aid), self.running_bridges())
        self.assertFalse(os.path.exists(self.bridge_of(aid)))
        if dst_kind == NBD:
            self.assertIn(self.bridge_of(dst_aid), self.running_bridges())
        if src_kind != NBD:
            self.assertNotIn(os.path.realpath(src.path),
                             self.live_chain(uuid, target))
        self.assertEqual(frozen, src.read())
        # The source's host may now unexport it.
        if src_kind == NBD:
            src.unexport()
        w.wait_for(3)
        done.wait(self)                               # fold-in finished
        w.wait_for(3)                                 # after
        w.stop()
        self.flush(uuid, target)
        self.assert_data(dst, model)
        self.assert_on(uuid, target, dst, persistent=persistent)
        self.assert_clean()
        rec = self.driver.journal.load(dst_aid)
        self.assertEqual(aid, rec['migrated_from'])
        self.assertEqual(dst.connection_info, rec['connection_info'])
        self.assertGreater(w.phases['frozen'], 0)
        self.record_phases(w)
        self.driver.detach_volume(uuid, dst_aid)
        self.assertEqual([], self.live_chain(uuid, target))
        self.assert_no_bridges()
        for key in ('freeze', 'switch', 'switch_pivot', 'fold'):
            self.assertIn(key, self.driver.timings[aid])

    def test_nbd_to_nbd(self):
        self._complete(NBD, NBD)

    def test_file_to_nbd(self):
        self._complete('file', NBD, seed=2)

    def test_nbd_to_block(self):
        self._complete(NBD, 'block', seed=3)

    def test_nbd_to_file_transient(self):
        self._complete(NBD, 'file', persistent=False, seed=4)

    def test_cancel_onto_the_nbd_source(self):
        uuid, src, aid, target, model, w = self._frozen(NBD, seed=5)
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
        self.assertEqual([self.bridge_of(aid)], self.running_bridges())
        self.assertGreater(w.phases['frozen'], 0)
        # A later complete fails; the attachment is still the source's.
        dst = self.make_volume(NBD, data=bytes(src.size))
        self.assertRaises(exception.Conflict, self.driver.migration_complete,
                          uuid, aid, str(uuid_mod.uuid4()),
                          dst.connection_info)
        self.assertEqual([self.bridge_of(aid)], self.running_bridges())
        self.driver.detach_volume(uuid, aid)
        self.assert_no_bridges()

    def test_bad_destinations_refused(self):
        uuid, src, aid, target, model, w = self._frozen(NBD, seed=6)
        w.stop()
        small = self.make_volume(NBD, size=2 * fl.MiB)
        lying = dict(small.connection_info)
        lying['data'] = dict(lying['data'], size=src.size)
        for ci in (src.connection_info,              # the source itself
                   small.connection_info,            # says it is too small
                   lying):                           # is too small
            self.assertRaises(exception.InvalidInput,
                              self.driver.migration_complete, uuid, aid,
                              'dst-' + uuid_mod.uuid4().hex, ci)
            self.assertEqual('frozen', self.driver.migration_state(aid))
            self.assertEqual([self.bridge_of(aid)], self.running_bridges())
        self.assertEqual(['%s.overlay.qcow2' % aid],
                         os.listdir(self.driver.overlay_path))
        # The volume cannot be migrated while another domain uses it.
        other = self.lv.create_domain(start=False)
        aid2, _t = self.attach(other, src)
        done = base.Done()
        self.driver.migration_cancel(uuid, aid, on_done=done)
        done.wait(self)
        e = self.assertRaises(exception.MultiAttachRefused,
                              self.driver.migration_start, uuid, aid)
        self.assertIn(aid2, str(e))
        self.driver.detach_volume(other, aid2)
        self.driver.detach_volume(uuid, aid)
        self.assert_clean()
        self.assert_no_bridges()
