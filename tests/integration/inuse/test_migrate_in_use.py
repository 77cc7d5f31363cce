"""A volume attached to a running (or stopped) QEMU guest migrates while
the guest writes; every byte it wrote is on the destination afterwards
(or on the source after a cancel)."""

import os

import libvirt

from tests.integration import fixtures_libvirt as lv
from tests.integration.inuse import base

MiB = base.MiB


class TestLiveMigration(base.InUseTestCase):

    def test_running_guest_keeps_writing(self):
        instance = self.lv.create_domain()
        vol, model = self.random_volume('file1')
        src = self.path_of(vol)
        att = self.attach(vol, instance)
        writer = self.writer(instance, att['device'], model)
        mig = self.migrate(vol['id'], 'file2')
        final, seen = self.wait_migration(mig['id'])
        writer.wait_for(3)
        writer.stop()
        self.assertEqual('success', final['status'], final)
        self.assertIn('completing', seen)
        # Writes landed while the copy ran, i.e. in the overlay.
        self.assertGreater(writer.phases['copying'], 0, writer.phases)
        self.settle(instance)
        dom = self.lv.domain(instance)
        lv.guest_flush(dom, att['device'])

        after = self.get_volume(vol['id'])
        self.assertEqual(('file2', 'in-use'),
                         (after['backend'], after['status']))
        dst = self.path_of(after)
        self.assert_same_bytes(bytes(model), dst)
        self.assertFalse(os.path.exists(src))
        # The guest uses the destination, live and persistently.
        self.assertIn(dst, dom.XMLDesc(0))
        self.assertIn(dst, dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        self.assertNotIn(src, dom.XMLDesc(0))
        # The attachment now has the destination's id.
        atts = self.app.get('/v1/attachments?volume_id=%s'
                            % vol['id']).json['attachments']
        self.assertEqual([final['dest_attachment_id']],
                         [a['id'] for a in atts])
        self.assertEqual('attached', atts[0]['status'])
        self.assert_no_hidden_volumes()

    def _copying_while_writing(self):
        """A guest writing to a 32 MiB volume whose copy has started."""
        instance = self.lv.create_domain()
        vol, model = self.random_volume('file1', 32 * MiB)
        att = self.attach(vol, instance)
        writer = self.writer(instance, att['device'], model)
        mig = self.migrate(vol['id'], 'file2')
        self.wait_copy_started(mig['id'])
        return instance, vol, model, self.path_of(vol), att, writer, mig

    def test_cancel_writes_everything_back_into_the_source(self):
        instance, vol, model, src, att, writer, mig = \
            self._copying_while_writing()
        self.app.post('/v1/migrations/%s/cancel' % mig['id'], status=202)
        final, _ = self.wait_migration(mig['id'])
        writer.wait_for(3)
        writer.stop()
        self.assertEqual('cancelled', final['status'], final)
        self.settle(instance)
        dom = self.lv.domain(instance)
        lv.guest_flush(dom, att['device'])
        after = self.get_volume(vol['id'])
        self.assertEqual(('file1', 'in-use', src),
                         (after['backend'], after['status'],
                          self.path_of(after)))
        self.assert_same_bytes(bytes(model), src)
        self.assertIn(src, dom.XMLDesc(0))
        self.assertEqual([], os.listdir(os.path.join(self.state_path,
                                                     'file2')))

    def test_guest_destroyed_during_the_copy_cannot_start(self):
        instance, vol, model, src, att, writer, mig = \
            self._copying_while_writing()
        writer.wait_for(3)
        writer.stop()
        dom = self.lv.domain(instance)
        lv.guest_flush(dom, att['device'])
        dom.destroy()
        # Locked since the freeze: it cannot start on the overlay.
        e = self.assertRaises(libvirt.libvirtError, dom.create)
        self.assertIn('MIGRATION-IN-PROGRESS-', str(e))
        self.assertEqual('migrating', self.get_migration(mig['id'])['status'])
        final, _ = self.wait_migration(mig['id'])
        self.assertEqual('success', final['status'], final)
        self.assertGreater(writer.phases['copying'], 0, writer.phases)
        self.settle(instance)
        dst = self.path_of(self.get_volume(vol['id']))
        self.assert_same_bytes(bytes(model), dst)
        self.assertFalse(os.path.exists(src))
        # Afterwards it starts, on the destination.
        self.assertIn(dst, dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        dom.create()
        lv.guest_write(dom, att['device'], 4096, 4096, 0x6b)
        lv.guest_flush(dom, att['device'])
        model[4096:8192] = b'\x6b' * 4096
        self.assert_same_bytes(bytes(model), dst)
        self.assertIn(dst, dom.XMLDesc(0))

    def test_detach_aborts_a_migration_without_force(self):
        instance, vol, model, src, att, writer, mig = \
            self._copying_while_writing()
        writer.wait_for(3)
        writer.stop()
        lv.guest_flush(self.lv.domain(instance), att['device'])
        self.app.delete('/v1/attachments/%s' % att['id'], status=202)
        self.assertEqual('cancelled', self.get_migration(mig['id'])['status'])
        self.system.wait_for(
            lambda: self.get_volume(vol['id'])['status'] == 'available',
            'volume detached')
        self.assertEqual([], self.get_volume(vol['id'])['attachments'])
        self.assert_same_bytes(bytes(model), src)

    def test_force_refuses_detach_and_attach(self):
        instance = self.lv.create_domain()
        other = self.lv.create_domain()
        vol, model = self.random_volume('file1', 32 * MiB)
        att = self.attach(vol, instance)
        mig = self.migrate(vol['id'], 'file2', force=True)
        self.assertEqual('maintenance', self.get_volume(vol['id'])['status'])
        resp = self.app.delete('/v1/attachments/%s' % att['id'], status=409)
        self.assertIn('maintenance', resp.json['errors'][0]['detail'])
        resp = self.app.post_json('/v1/attachments', {'attachment': {
            'volume_id': vol['id'], 'instance_uuid': other,
            'host': 'testhost'}}, status=409)
        self.assertIn('maintenance', resp.json['errors'][0]['detail'])
        final, _ = self.wait_migration(mig['id'])
        self.assertEqual('success', final['status'], final)
        self.assertEqual('in-use', self.get_volume(vol['id'])['status'])
        self.settle(instance)
        self.assert_same_bytes(bytes(model),
                               self.path_of(self.get_volume(vol['id'])))


class TestStoppedGuest(base.InUseTestCase):

    def test_shut_off_guest_cannot_start_until_complete(self):
        instance = self.lv.create_domain(start=False)
        vol, model = self.random_volume('file1')
        att = self.attach(vol, instance)
        dom = self.lv.domain(instance)
        # Hold the migration in its copy to try starting the guest.
        mig = self.migrate(vol['id'], 'file2')
        self.system.wait_for(
            lambda: self.get_migration(mig['id'])['status'] == 'migrating',
            'copying')
        self.assertRaises(libvirt.libvirtError, dom.create)
        final, _ = self.wait_migration(mig['id'])
        self.assertEqual('success', final['status'], final)
        self.settle(instance)
        dst = self.path_of(self.get_volume(vol['id']))
        self.assertIn(dst, dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        dom.create()
        lv.guest_write(dom, att['device'], 4096, 4096, 0x5a)
        lv.guest_flush(dom, att['device'])
        model[4096:8192] = b'\x5a' * 4096
        self.assert_same_bytes(bytes(model), dst)
