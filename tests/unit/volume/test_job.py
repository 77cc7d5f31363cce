"""Copy jobs: progress polling, reports and notifications."""

import os
import threading

from migrator_api.common import context
from migrator_api.rpcapi import payloads
from migrator_volume import backends
from migrator_volume.copy import job as copy_job
from migrator_volume import notifications
from tests.unit.volume import base

MiB = base.MiB


class FakeReporter:
    """Stands for ConductorAPI: records copy_progress / copy_finished."""

    def __init__(self):
        self.progress = []
        self.finished = []
        self.done = threading.Event()

    def copy_progress(self, ctxt, migration_id, bytes_done, bytes_total):
        self.progress.append((migration_id, bytes_done, bytes_total))

    def copy_finished(self, ctxt, migration_id, bytes_done, bytes_total,
                      error=None):
        self.finished.append((migration_id, bytes_done, bytes_total, error))
        self.done.set()


class CopyJobTestCase(base.VolumeTestCase):

    def setUp(self):
        super().setUp()
        self.messaging = self.useFixture(base.MessagingFixture(self.conf))
        self.backend('src', file_path=os.path.join(self.tmp, 'src'))
        self.backend('dst', file_path=os.path.join(self.tmp, 'dst'))
        self.flags(group='volume', enabled_backends=['src', 'dst'],
                   migration_progress_report_interval=1)
        self.backends = backends.load_backends(self.conf)
        self.reporter = FakeReporter()
        self.notifier = notifications.VolumeNotifier('host1')

    def _job(self, src_loc, dst_loc, size, dst_backend='dst'):
        return copy_job.CopyJob(
            context.get_admin_context(), self.conf, self.backends,
            self.reporter, self.notifier, 'mig-1', 'vol-1', src_loc,
            dst_backend, dst_loc, size)

    def _volumes(self, size, data_ranges):
        src_loc = self.backends['src'].create_volume('a', size)
        self.write_data(src_loc['data']['path'], data_ranges)
        dst_loc = self.backends['dst'].create_volume('b', size)
        return src_loc, dst_loc

    def test_progress_reports_and_notifications(self):
        # 10 MiB at 2 MiB/s: about 5 s, polled every second.
        size = 10 * MiB
        self.flags(group='volume', volume_copy_bps_limit=2 * MiB)
        src_loc, dst_loc = self._volumes(size, [(0, size)])
        job = self._job(src_loc, dst_loc, size)
        job.start()
        self.assertTrue(job.wait(120))
        self.assertEqual({'state': 'done', 'bytes_done': size,
                          'bytes_total': size, 'error': None}, job.status())
        self.assertSameData(src_loc['data']['path'], dst_loc['data']['path'],
                            size)
        values = {done for _m, done, _t in self.reporter.progress}
        self.assertGreaterEqual(len(values - {0, size}), 3,
                                self.reporter.progress)
        self.assertEqual([('mig-1', size, size, None)],
                         self.reporter.finished)

        sent = self.messaging.notifications()
        events = [event for event, _payload, _publisher in sent]
        self.assertEqual('volume.migration.start', events[0])
        self.assertEqual('volume.migration.end', events[-1])
        self.assertEqual(len(self.reporter.progress),
                         events.count('volume.migration.progress'))
        self.assertEqual({'migrator-volume.host1'}, {p for _e, _l, p in sent})
        self.assertEqual({'volume_id': 'vol-1', 'migration_id': 'mig-1',
                          'percentage': 100.0, 'bytes_done': size,
                          'bytes_total': size}, sent[-1][1])
        progress_payloads = [payload for event, payload, _p in sent
                             if event == 'volume.migration.progress']
        for payload in progress_payloads:
            self.assertEqual(payloads.percentage(payload['bytes_done'], size),
                             payload['percentage'])
        self.assertGreaterEqual(
            len({p['percentage'] for p in progress_payloads}), 3)

    def test_no_poller_without_the_capability(self):
        self.flags(group='src', migration_progress_report=False)
        self.flags(group='volume', volume_copy_bps_limit=2 * MiB)
        src_loc, dst_loc = self._volumes(3 * MiB, [(0, 3 * MiB)])
        job = self._job(src_loc, dst_loc, 3 * MiB)
        job.start()
        self.assertTrue(job.wait(120))
        self.assertEqual('done', job.status()['state'])
        self.assertEqual([], self.reporter.progress)

    def test_bad_input_ends_in_copy_finished_with_error(self):
        src_loc, dst_loc = self._volumes(MiB, [(0, MiB)])
        outside = {'driver_volume_type': 'file',
                   'data': {'path': '/etc/passwd'}}
        cases = ((outside, dst_loc, MiB, 'dst', 'belongs to no backend'),
                 (src_loc, outside, MiB, 'dst', 'is not a volume of'),
                 (src_loc, dst_loc, MiB, 'nope', 'Backend nope could not'),
                 (src_loc, dst_loc, 0, 'dst', 'positive number'),
                 (src_loc, src_loc, MiB, 'src', 'are both'))
        for src, dst, size, dst_backend, message in cases:
            self.reporter.finished = []
            job = self._job(src, dst, size, dst_backend)
            job.run()
            status = job.status()
            self.assertEqual('error', status['state'])
            self.assertIn(message, status['error'])
            self.assertEqual([('mig-1', 0, size, status['error'])],
                             self.reporter.finished)
            event, payload, _p = self.messaging.notifications()[-1]
            self.assertEqual('volume.migration.error', event)
            self.assertEqual(status['error'], payload['error'])

    def test_cancel(self):
        size = 16 * MiB
        self.flags(group='volume', volume_copy_bps_limit=2 * MiB)
        src_loc, dst_loc = self._volumes(size, [(0, size)])
        job = self._job(src_loc, dst_loc, size)
        job.start()
        while job.bytes_done == 0 and job.running:
            job.wait(0.05)
        job.cancel()
        self.assertTrue(job.wait(60))
        status = job.status()
        self.assertEqual('cancelled', status['state'])
        self.assertLess(status['bytes_done'], size)
        self.assertEqual(status['error'], self.reporter.finished[0][3])
        self.assertEqual('volume.migration.error',
                         self.messaging.notifications()[-1][0])
