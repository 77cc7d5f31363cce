"""Migrations through the deployed processes: two conductors, a volume
worker and the API under uWSGI over RabbitMQ, on MariaDB and on
PostgreSQL; every byte compared, the notifications taken off RabbitMQ
by a real listener, in order, with the documented payloads."""

import os

from tests import base
from tests.integration.services import deployment as dep

#: The payload keys doc/source/admin/notifications.rst documents.
PAYLOAD_KEYS = {'volume_id', 'migration_id', 'percentage', 'bytes_done',
                'bytes_total'}
SIZE = 16 * dep.MiB


class _Flows(object):
    DATABASE = None

    def setUp(self):
        super().setUp()
        self.deployment = self.useFixture(
            dep.Deployment(self, database=self.DATABASE))
        self.listener = self.useFixture(dep.Listener(
            self.conf, self.deployment.transport_url))

    def test_migrate_file_to_file(self):
        d = self.deployment
        services = d.up_services()
        self.assertEqual(
            [('cond1', 'migrator-conductor'), ('cond2', 'migrator-conductor'),
             ('vol1', 'migrator-volume')],
            sorted((s['host'], s['binary']) for s in services))
        self.assertTrue(all(s['last_seen_at'] for s in services))
        vol = d.create_volume(SIZE)
        data = d.write_pattern(vol)
        mig = d.migrate(vol['id'], 'file2')['migration']
        done = d.wait_migration(mig['id'])
        self.assertEqual(('success', None), (done['status'], done['error']))
        moved = d.api('GET', '/v1/volumes/%s' % vol['id'],
                      expect=200)[1]['volume']
        self.assertEqual('file2', moved['backend'])
        self.assertNotEqual(d.path(vol), d.path(moved))
        with open(d.path(moved), 'rb') as f:
            self.assertTrue(f.read() == data, 'the copy differs')
        self.assertFalse(os.path.exists(d.path(vol)))
        # Nobody holds a migration that ended.
        self.assertEqual((None, None), tuple(d.row(
            'SELECT conductor_host, claimed_at FROM migrations WHERE id = '
            ':id', id=mig['id']).values()))
        self._check_notifications(mig['id'], vol['id'])

    def _check_notifications(self, migration_id, volume_id):
        events = dep.Deployment.wait_for(
            lambda: [e for e in self.listener.of(migration_id)
                     if e[1] == 'volume.migration.end'] and
            self.listener.of(migration_id), 'the end notification', 30)
        types = [e[1] for e in events]
        self.assertEqual('volume.migration.start', types[0], types)
        self.assertEqual('volume.migration.end', types[-1], types)
        progress = [e[2] for e in events
                    if e[1] == 'volume.migration.progress']
        self.assertEqual(['volume.migration.progress'] * len(progress),
                         types[1:-1])
        self.assertGreaterEqual(len(progress), 1)
        done = [p['bytes_done'] for p in progress]
        self.assertEqual(sorted(done), done, 'progress went back')
        self.assertTrue(0 < done[0] and done[-1] <= SIZE, done)
        for priority, event_type, payload, _when in events:
            self.assertEqual('info', priority)
            self.assertEqual(PAYLOAD_KEYS, set(payload), event_type)
            self.assertEqual((migration_id, volume_id, SIZE),
                             (payload['migration_id'], payload['volume_id'],
                              payload['bytes_total']))
        self.assertEqual((SIZE, 100.0), (events[-1][2]['bytes_done'],
                                         events[-1][2]['percentage']))


class TestOnMariaDB(_Flows, base.TestCase):
    DATABASE = 'mariadb'

    def test_failing_copy_sends_error(self):
        """The source shrinks under the copy: it fails, rolls back, and
        ``volume.migration.error`` (ERROR priority) says why."""
        d = self.deployment
        vol = d.create_volume(SIZE)
        d.write_pattern(vol)
        mig = d.migrate(vol['id'], 'file2')['migration']
        d.wait_for(lambda: [e for e in self.listener.of(mig['id'])
                            if e[1] == 'volume.migration.progress'],
                   'a progress notification')
        os.truncate(d.path(vol), dep.MiB)
        done = d.wait_migration(mig['id'])
        self.assertEqual('error', done['status'])
        self.assertIn('ended at offset', done['error'])
        events = d.wait_for(
            lambda: [e for e in self.listener.of(mig['id'])
                     if e[0] == 'error'], 'the error notification', 30)
        self.assertEqual(1, len(events))
        _prio, event_type, payload, when = events[0]
        self.assertEqual('volume.migration.error', event_type)
        self.assertEqual(PAYLOAD_KEYS | {'error'}, set(payload))
        self.assertIn('ended at offset', payload['error'])
        info = self.listener.of(mig['id'])
        self.assertEqual('volume.migration.start', info[0][1])
        self.assertNotIn('volume.migration.end', [e[1] for e in info])
        # Sent after every info notification of the copy.
        self.assertTrue(all(e[3] <= when for e in info), info)
        vol = d.api('GET', '/v1/volumes/%s' % vol['id'],
                    expect=200)[1]['volume']
        self.assertEqual(('file1', 'error'), (vol['backend'],
                                              vol['migration_status']))


class TestOnPostgreSQL(_Flows, base.TestCase):
    DATABASE = 'postgresql'
