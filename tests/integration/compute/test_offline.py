"""``[compute] driver = libvirt-offline``: a host without live block
jobs migrates shut-off instances only.  Their power state comes from
libvirt; a running instance is refused; a shut-off one is locked until
the migration ends, with the libvirt driver's stopped-domain flow."""

import os
import uuid as uuid_mod

from migrator_api.common import exception
from migrator_compute.drivers import base as drv_base
from migrator_compute.drivers.libvirt import lock
from tests.integration.compute import base
from tests.integration.compute import test_recovery
from tests.integration.compute import test_stopped
from tests.integration import fixtures_libvirt as fl


class OfflineDriverTestCase(base.LibvirtTestCase):

    def new_driver(self):
        self.flags(group='compute', driver='libvirt-offline')
        driver = drv_base.load_driver(self.conf)
        self.addCleanup(driver.cleanup)
        return driver


class TestOfflineDriver(test_stopped.StoppedDomainChecks,
                        OfflineDriverTestCase):

    def test_loaded_from_its_entry_point(self):
        self.assertIsInstance(self.driver,
                              self.driver_mod.LibvirtOfflineDriver)
        self.assertFalse(self.driver.supports_live_migration)
        self.flags(group='compute', driver='nope')
        e = self.assertRaises(exception.InvalidInput, drv_base.load_driver,
                              self.conf)
        self.assertIn('libvirt-offline', str(e))

    def test_running_instance_refused(self):
        uuid = self.lv.create_domain()
        src = self.lv.make_volume('file', size=4 * fl.MiB)
        aid, target = self.attach(uuid, src)
        self.assertEqual('running',
                         self.driver.get_instance(uuid)['power_state'])
        e = self.assertRaises(exception.InstanceNotFreezable,
                              self.driver.migration_start, uuid, aid)
        self.assertIn('shut-off instances only', str(e))
        self.assertFalse(self.driver.is_busy(uuid))
        self.assertIsNone(self.driver.migration_state(aid))
        self.assertEqual([], os.listdir(self.driver.overlay_path))
        self.assert_on(uuid, target, src)
        # Shut off, it migrates; its power state follows libvirt's.
        self.lv.domain(uuid).destroy()
        self.assertEqual('shutoff',
                         self.driver.get_instance(uuid)['power_state'])
        self.assertEqual({'mode': 'offline'},
                         self.driver.migration_start(uuid, aid))
        done = base.Done()
        self.driver.migration_cancel(uuid, aid, on_done=done)
        done.wait(self)
        self.assert_on(uuid, target, src, live=False)

    def test_started_while_being_locked(self):
        """The domain starts between the check and the lock: a live
        freeze is not for this host."""
        uuid = self.lv.create_domain(start=False)
        src = self.lv.make_volume('file', size=4 * fl.MiB)
        aid, target = self.attach(uuid, src)

        def started(*args):
            raise lock.DomainStarted('started meanwhile')
        self.driver.flows.offline.start = started
        e = self.assertRaises(exception.InstanceNotFreezable,
                              self.driver.migration_start, uuid, aid)
        self.assertIn('shut-off instances only', str(e))
        self.assertIsNone(self.driver.migration_state(aid))

    def test_complete_on_a_destination_copy(self):
        uuid, src, dst, aid, target = self._locked_domain('block', 'block')
        self.assertRaises(exception.Conflict, self.driver.detach_volume,
                          uuid, aid)
        self.freeze_copy(src, dst)
        dst_aid = str(uuid_mod.uuid4())
        done = base.Done()
        self.assertEqual({'target': target}, self.driver.migration_complete(
            uuid, aid, dst_aid, dst.connection_info, on_done=done))
        done.wait(self)
        self.assertIsNone(self.driver.attachment(aid))
        self.assertEqual(dst.connection_info,
                         self.driver.attachment(dst_aid)['connection_info'])
        self.assertFalse(self.driver.is_busy(uuid))
        self._write_after_start(uuid, target, dst)
        self.assertEqual('running',
                         self.driver.get_instance(uuid)['power_state'])


class TestOfflineDriverCrash(test_recovery.RecoveryMixin,
                             OfflineDriverTestCase):

    def test_crash_while_locking_a_stopped_domain(self):
        self.crash_while_locking(600)
