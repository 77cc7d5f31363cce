"""The hypervisor-independent offline driver, and the journal."""

import json
import os
import threading

from migrator_api.common import exception
from migrator_compute.drivers import base as drv_base
from migrator_compute.drivers import offline
from migrator_compute import journal as journal_mod
from tests import base


def _file(path):
    return {'driver_volume_type': 'file', 'data': {'path': path}}


class TestOfflineDriver(base.TestCase):

    def setUp(self):
        super().setUp()
        self.flags(group='compute', driver='offline')
        self.driver = drv_base.load_driver(self.conf)
        self.assertIsInstance(self.driver, offline.OfflineDriver)
        self.assertFalse(self.driver.supports_live_migration)
        self.uuid = 'inst-1'
        self.target = self.driver.attach_volume(
            self.uuid, 'att-1', _file('/srv/a'))['target']

    def _done(self):
        event, errors = threading.Event(), []

        def cb(err):
            errors.append(err)
            event.set()
        cb.wait = lambda: (event.wait(10), errors)[1]
        return cb

    def test_start_refused_unless_known_shut_off(self):
        for state in ('unknown', 'running'):
            if state != 'unknown':
                self.driver.set_power_state(self.uuid, state)
            e = self.assertRaises(exception.InstanceNotFreezable,
                                  self.driver.migration_start, self.uuid,
                                  'att-1')
            self.assertIn(state, str(e))
        self.assertFalse(self.driver.is_busy(self.uuid))

    def test_lock_then_complete_swaps_the_connection(self):
        self.driver.set_power_state(self.uuid, 'shutoff')
        self.assertEqual({'mode': 'offline'},
                         self.driver.migration_start(self.uuid, 'att-1'))
        self.assertTrue(self.driver.is_busy(self.uuid))
        self.assertRaises(exception.Conflict, self.driver.power_on,
                          self.uuid)
        self.assertRaises(exception.Conflict, self.driver.detach_volume,
                          self.uuid, 'att-1')
        cb = self._done()
        self.assertEqual({'target': self.target},
                         self.driver.migration_complete(
                             self.uuid, 'att-1', 'att-2', _file('/srv/b'),
                             on_done=cb))
        self.assertEqual([None], cb.wait())
        self.assertEqual(_file('/srv/b'),
                         self.driver.connection_info('att-2'))
        self.assertIsNone(self.driver.connection_info('att-1'))
        self.assertFalse(self.driver.is_busy(self.uuid))
        # Idempotent repeat, then the instance may start again.
        cb = self._done()
        self.driver.migration_complete(self.uuid, 'att-1', 'att-2',
                                       _file('/srv/b'), on_done=cb)
        self.assertEqual([None], cb.wait())
        self.driver.power_on(self.uuid)
        self.assertEqual('running', self.driver.power_state(self.uuid))

    def test_cancel_unlocks_and_a_later_complete_fails(self):
        self.driver.set_power_state(self.uuid, 'shutoff')
        self.driver.migration_start(self.uuid, 'att-1')
        cb = self._done()
        self.driver.migration_cancel(self.uuid, 'att-1', on_done=cb)
        self.assertEqual([None], cb.wait())
        self.assertRaises(exception.Conflict,
                          self.driver.migration_complete, self.uuid,
                          'att-1', 'att-2', _file('/srv/b'))
        self.assertEqual(_file('/srv/a'),
                         self.driver.connection_info('att-1'))
        self.driver.power_on(self.uuid)

    def test_shared_source_refused(self):
        self.driver.attach_volume('inst-2', 'att-9', _file('/srv/a'))
        self.driver.set_power_state(self.uuid, 'shutoff')
        self.assertRaises(exception.MultiAttachRefused,
                          self.driver.migration_start, self.uuid, 'att-1')

    def test_recover(self):
        self.driver.set_power_state(self.uuid, 'shutoff')
        self.driver.attach_volume(self.uuid, 'att-3', _file('/srv/c'))
        self.driver.attach_volume(self.uuid, 'att-4', _file('/srv/d'))
        self.driver.migration_start(self.uuid, 'att-1')
        self.driver.migration_start(self.uuid, 'att-3')
        self.driver.migration_start(self.uuid, 'att-4')
        j = self.driver.journal
        # att-1: died while completing; att-3: while locking; att-4:
        # frozen, stays locked.
        rec = j.load('att-1')
        j.set_step(rec, 'complete:offline', dst_attachment_id='att-1b',
                   dst_connection_info=_file('/srv/b'), destination='/srv/b',
                   destination_kind='file')
        rec = j.load('att-3')
        j.set_step(rec, 'offline:lock')
        fresh = offline.OfflineDriver(self.conf)
        self.assertEqual({'att-1': 'completed', 'att-3': 'cancelled',
                          'att-4': 'frozen'}, dict(fresh.recover()))
        self.assertEqual(_file('/srv/b'), fresh.connection_info('att-1b'))
        self.assertRaises(exception.Conflict, fresh.power_on, self.uuid)
        cb = self._done()
        fresh.migration_cancel(self.uuid, 'att-4', on_done=cb)
        self.assertEqual([None], cb.wait())
        fresh.power_on(self.uuid)


class TestJournal(base.TestCase):

    def test_atomic_records(self):
        path = os.path.join(self.state_path, 'j')
        j = journal_mod.Journal(path)
        rec = j.new_record('att-1', 'inst', 'sda', _file('/srv/a'))
        j.save(rec)
        rec['migration'] = {'mode': 'live', 'step': None}
        j.set_step(rec, 'start:overlay', overlay='/o')
        # A write interrupted before its rename leaves only a temporary
        # file: the previous record stays valid and the stray is removed.
        with open(os.path.join(path, 'att-1.json.1.2.tmp'), 'w') as f:
            f.write('{"attachment_id": "att-1", "broken')
        records = j.records()
        self.assertEqual(1, len(records))
        self.assertEqual('start:overlay', records[0]['migration']['step'])
        self.assertEqual('/o', records[0]['migration']['overlay'])
        self.assertEqual(['att-1.json'], os.listdir(path))
        with open(os.path.join(path, 'att-1.json')) as f:
            self.assertEqual('start:overlay',
                             json.load(f)['migration']['history'][0][0])
        j.delete('att-1')
        self.assertIsNone(j.load('att-1'))
        self.assertRaises(ValueError, j.load, '../etc/passwd')

    def test_connection_path(self):
        self.assertEqual(('file', '/a'),
                         drv_base.connection_path(_file('/a')))
        self.assertEqual(('block', '/dev/x'), drv_base.connection_path(
            {'driver_volume_type': 'block',
             'data': {'device_path': '/dev/x'}}))
        for bad in ({'driver_volume_type': 'rbd', 'data': {}},
                    _file('relative'), None):
            self.assertRaises(exception.InvalidInput,
                              drv_base.connection_path, bad)
