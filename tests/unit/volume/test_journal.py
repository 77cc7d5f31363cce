"""The copy journal, and the copy job's entry in it."""

import json
import os

from migrator_api.common import context
from migrator_volume import backends
from migrator_volume.copy import job as copy_job
from migrator_volume.copy import journal
from migrator_volume import notifications
from tests.unit.volume import base
from tests.unit.volume import test_job

MiB = base.MiB


class CopyJournalTestCase(base.VolumeTestCase):

    def setUp(self):
        super().setUp()
        self.journal = journal.CopyJournal(self.tmp)
        self.path = os.path.join(self.tmp, 'volume-copies')

    def _entry(self, migration_id='m1'):
        return self.journal.new_entry(
            migration_id, 'v1', {'driver_volume_type': 'file',
                                 'data': {'path': '/a'}},
            'dst', {'driver_volume_type': 'block',
                    'data': {'device_path': '/dev/loop9'}}, MiB)

    def test_save_update_remove(self):
        self.assertEqual([], self.journal.entries())
        entry = self._entry()
        self.journal.save(entry)
        self.assertEqual(['m1.json'], os.listdir(self.path))
        entry['bytes_done'] = 4096
        self.journal.save(entry)
        self.assertEqual([entry], self.journal.entries())
        self.assertEqual(('running', 4096, MiB),
                         (entry['state'], entry['bytes_done'],
                          entry['size']))
        self.journal.remove('m1')
        self.journal.remove('m1')
        self.assertEqual([], self.journal.entries())

    def test_unfinished_writes_and_unreadable_entries(self):
        self.journal.save(self._entry('m1'))
        with open(os.path.join(self.path, 'm1.json.tmp.999'), 'w') as f:
            f.write('{"half": ')
        with open(os.path.join(self.path, 'm2.json'), 'w') as f:
            f.write('not json')
        with open(os.path.join(self.path, 'm3.json'), 'w') as f:
            json.dump({'migration_id': '../escape'}, f)
        self.assertEqual(['m1'], [e['migration_id']
                                  for e in self.journal.entries()])
        self.assertEqual(['m1.json', 'm2.json', 'm3.json'],
                         sorted(os.listdir(self.path)))

    def test_bad_migration_id(self):
        for bad in ('../x', '', None, '.hidden'):
            self.assertRaises(ValueError, self.journal.remove, bad)


class FailingReporter(test_job.FakeReporter):

    def copy_finished(self, *args, **kwargs):
        raise RuntimeError('the conductor cannot be reached')


class JobJournalTestCase(base.VolumeTestCase):

    def setUp(self):
        super().setUp()
        self.messaging = self.useFixture(base.MessagingFixture(self.conf))
        self.backend('src', file_path=os.path.join(self.tmp, 'src'))
        self.backend('dst', file_path=os.path.join(self.tmp, 'dst'))
        self.flags(group='volume', enabled_backends=['src', 'dst'],
                   migration_progress_report_interval=1)
        self.backends = backends.load_backends(self.conf)
        self.journal = journal.CopyJournal(self.tmp)

    def _job(self, size, reporter):
        src = self.backends['src'].create_volume('a', size)
        self.write_data(src['data']['path'], [(0, size)])
        dst = self.backends['dst'].create_volume('b', size)
        return copy_job.CopyJob(
            context.get_admin_context(), self.conf, self.backends, reporter,
            notifications.VolumeNotifier('host1'), 'mig-1', 'vol-1', src,
            'dst', dst, size, journal=self.journal), src, dst

    def test_entry_lives_until_the_end_is_reported(self):
        size = 6 * MiB
        self.flags(group='volume', volume_copy_bps_limit=2 * MiB)
        reporter = test_job.FakeReporter()
        seen = []
        real = reporter.copy_progress

        def progress(ctxt, migration_id, bytes_done, bytes_total):
            seen.append((bytes_done, self.journal.entries()))
            real(ctxt, migration_id, bytes_done, bytes_total)
        reporter.copy_progress = progress
        job, src, dst = self._job(size, reporter)
        job.start()
        self.assertTrue(job.wait(120))
        self.assertTrue(seen)
        for bytes_done, entries in seen:
            self.assertEqual(1, len(entries))
            entry = entries[0]
            self.assertEqual(('mig-1', 'vol-1', src, 'dst', dst, size,
                              'running', bytes_done),
                             (entry['migration_id'], entry['volume_id'],
                              entry['src_location'], entry['dst_backend'],
                              entry['dst_location'], entry['size'],
                              entry['state'], entry['bytes_done']))
        self.assertEqual([('mig-1', size, size, None)], reporter.finished)
        self.assertEqual([], self.journal.entries())
        self.assertSameData(src['data']['path'], dst['data']['path'], size)

    def test_unreported_end_stays_in_the_journal(self):
        job, src, dst = self._job(2 * MiB, FailingReporter())
        job.start()
        self.assertTrue(job.wait(60))
        [entry] = self.journal.entries()
        self.assertEqual(('done', None, 2 * MiB),
                         (entry['state'], entry['error'],
                          entry['bytes_done']))

    def test_copy_stopped_with_its_worker_is_not_ended_in_the_journal(self):
        self.flags(group='volume', volume_copy_bps_limit=MiB)
        job, _src, _dst = self._job(8 * MiB, FailingReporter())
        job.start()
        while job.bytes_done == 0 and job.running:
            job.wait(0.05)
        job.cancel(stopping=True)
        self.assertTrue(job.wait(60))
        self.assertEqual(('cancelled', copy_job.STOPPED),
                         (job.status()['state'], job.status()['error']))
        [entry] = self.journal.entries()
        self.assertEqual('running', entry['state'])
