"""Resume watermarks (copy.watermark): the logic with requests completing
out of order, and real copies killed -9 (the copy's process, or its dd)
then resumed, every byte compared, counting the bytes copied twice."""

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from unittest import mock

from migrator_api.common import context
from migrator_volume import backends
from migrator_volume.copy import base as copy_base
from migrator_volume.copy import dd
from migrator_volume.copy import fileio
from migrator_volume.copy import job as copy_job
from migrator_volume.copy import journal
from migrator_volume.copy import watermark
from migrator_volume import fsutils
from migrator_volume import notifications
from tests import base as tests_base
from tests.unit.volume import base
from tests.unit.volume import test_job

MiB = base.MiB
#: The volumes of the dd retry test: two dd's of 32 MiB, long enough
#: to be killed mid-way.
SIZE = 64 * MiB


class WatermarkTestCase(base.VolumeTestCase):

    def test_out_of_order_completions(self):
        w = watermark.Watermark(start=100)
        for start in (100, 200, 300, 400):
            w.issue(start, start + 100)
        self.assertEqual(100, w.value)
        w.complete(300)
        w.complete(200)
        self.assertEqual(100, w.value)      # 100-200 still in flight
        w.complete(100)
        self.assertEqual(400, w.value)      # 100-400 all written
        w.complete(400)
        self.assertEqual(500, w.value)
        self.assertEqual(500, w.frontier)

    def test_random_order_matches_the_lowest_range_in_flight(self):
        rnd = random.Random(7)
        w = watermark.Watermark()
        ranges, offset = [], 0
        for _ in range(500):
            length = rnd.randint(1, 10)
            w.issue(offset, offset + length)
            ranges.append((offset, offset + length))
            offset += length
        pending = dict(ranges)
        order = list(pending)
        rnd.shuffle(order)
        for start in order:
            w.complete(start)
            del pending[start]
            self.assertEqual(min(pending) if pending else offset, w.value)

    def test_a_dd_advances_within_its_range(self):
        w = watermark.Watermark()
        w.issue(0, 100)
        w.issue(100, 200)
        w.advance(0, 40)
        w.advance(0, 30)            # positions never go back
        w.complete(100)
        self.assertEqual(40, w.value)
        w.advance(0, 500)           # never past its range
        self.assertEqual(200, w.value)

    def test_ranges_come_in_order(self):
        w = watermark.Watermark(10)
        self.assertRaises(ValueError, w.issue, 20, 30)

    def test_recopied_counts_what_an_earlier_run_may_have_written(self):
        w = watermark.Watermark(start=100, redo_until=250)
        for start in (100, 200, 300):
            w.issue(start, start + 100)
            w.complete(start)
        self.assertEqual(150, w.recopied)


class MarkerTestCase(base.VolumeTestCase):

    def _marker(self, calls, every_seconds=0, fail=False):
        w = watermark.Watermark()

        def get():
            calls.append('get')
            return w.value

        def record(mark, reserved):
            if fail:
                raise OSError('disk full')
            calls.append(('record', mark, reserved))
        return w, watermark.Marker(w, get, lambda: calls.append('sync'),
                                   record, 100, every_seconds, 'm1')

    def test_reserves_before_handing_out(self):
        calls = []
        w, marker = self._marker(calls)
        for start in range(0, 400, 50):
            marker.reserve(start + 50)
            w.issue(start, start + 50)
            w.complete(start)
        # One mark when 0-50 is handed out (reserving up to 150), one
        # for 150-200 (up to 300), one for 300-350 (up to 450).
        self.assertEqual(['get', 'sync', ('record', 0, 150),
                          'get', 'sync', ('record', 150, 300),
                          'get', 'sync', ('record', 300, 450)], calls)
        self.assertEqual((300, 450, 3),
                         (marker.durable, marker.reserved, marker.marks))

    def test_timer_and_final_mark(self):
        calls = []
        w, marker = self._marker(calls, every_seconds=0.05)
        marker.start()
        w.issue(0, 10)
        w.complete(0)
        deadline = time.monotonic() + 10
        while marker.durable < 10 and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(10, marker.durable)
        marks = marker.marks
        time.sleep(0.2)
        self.assertEqual(marks, marker.marks)   # nothing moved: no mark
        w.issue(10, 20)
        w.complete(10)
        marker.stop(final=True)
        self.assertEqual(('record', 20, 0), calls[-1])   # no reserve()

    def test_a_failed_record_keeps_the_last_mark(self):
        calls = []
        w, marker = self._marker(calls, fail=True)
        marker.reserve(50)
        self.assertEqual((0, 150, 0),
                         (marker.durable, marker.reserved, marker.marks))


#: A copy run in a process of its own, which the test kills -9; each
#: mark it records goes to a JSON file, atomically and durably.
_CHILD = '''
import json, sys
from migrator_api.common import fileutils
from migrator_volume.copy import dd, fileio
kind, src, dst, size, zeroed, marks = sys.argv[1:7]
def record(mark, reserved):
    fileutils.write_json_atomic(marks, {'watermark': mark,
                                        'reserved': reserved})
cls = dd.DdCopier if kind == 'dd' else fileio.FileIOCopier
kw = {'blocksize': 256 * 1024} if kind == 'dd' else {'chunk_size': 256 * 1024}
cls(src, dst, int(size), bps_limit=4 * 1024 * 1024, in_flight=4,
    dst_zeroed=zeroed == '1', on_mark=record, mark_bytes=1024 * 1024,
    mark_seconds=0, label='crash', **kw).run()
'''
#: What the child hands out past its watermark: its requests in flight
#: (4), queued (twice as many) and the one being handed out.
WINDOW = (4 + 2 * 4 + 1) * 256 * 1024
#: The largest hole of the tests' sources (one task of the file copy).
HOLE = 2 * MiB


class CrashResumeTestCase(base.VolumeTestCase):
    """A copy killed -9 mid-way, resumed from its last mark."""

    def _crash(self, kind, src, dst, size, dst_zeroed):
        marks = os.path.join(self.tmp, 'marks.json')
        root = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.dirname(os.path.abspath(__file__)))))
        proc = subprocess.Popen(
            [sys.executable, '-c', _CHILD, kind, src, dst, str(size),
             '1' if dst_zeroed else '0', marks], cwd=root,
            env=dict(os.environ, PYTHONPATH=root))
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        deadline = time.monotonic() + 60
        mark = {'watermark': 0}
        while mark['watermark'] < 3 * MiB:
            self.assertLess(time.monotonic(), deadline, 'no marks')
            self.assertIsNone(proc.poll(), 'the copy ended')
            time.sleep(0.05)
            if os.path.exists(marks):
                with open(marks) as f:
                    mark = json.load(f)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with open(marks) as f:
            mark = json.load(f)
        self.assertLess(mark['watermark'], size)
        # The walk hands out up to WINDOW past the watermark, and
        # reserves a mark interval past what it hands out.
        self.assertLessEqual(mark['reserved'] - mark['watermark'],
                             MiB + WINDOW + HOLE)
        return mark

    def _resume(self, cls, src, dst, size, dst_zeroed, mark, **kw):
        written = []
        real = fileio._pwrite_all

        def counting(fd, view, offset):
            written.append((offset, len(view)))
            real(fd, view, offset)
        copier = cls(src, dst, size, dst_zeroed=dst_zeroed,
                     resume_from=mark['watermark'],
                     redo_until=mark['reserved'], label='resumed', **kw)
        with mock.patch.object(fileio, '_pwrite_all', counting):
            copier.run()
        self.assertEqual(size, copier.bytes_done)
        self.assertSameData(src, dst, size)
        return copier, written

    def test_file_copy_killed_and_resumed(self):
        size = 16 * MiB
        holes = [(0, MiB), (6 * MiB, 2 * MiB), (12 * MiB, MiB)]
        data = [(MiB, 5 * MiB), (8 * MiB, 4 * MiB), (13 * MiB, 3 * MiB)]
        src = self.make_file(size, data)
        dst = self.make_file(size)
        mark = self._crash('file', src, dst, size, True)
        w, reserved = mark['watermark'], mark['reserved']
        # What the killed copy had written past its watermark: the data
        # a resume copies twice.
        fd = os.open(dst, os.O_RDONLY)
        try:
            twice = sum(e - s for s, e in fsutils.data_extents(fd, w, size))
        finally:
            os.close(fd)
        copier, written = self._resume(
            fileio.FileIOCopier, src, dst, size, True, mark,
            chunk_size=256 * 1024, in_flight=4)
        self.assertEqual(w, copier.resume_from)
        self.assertTrue(all(o >= w for o, _n in written), written[:3])
        again = sum(min(o + n, reserved) - o for o, n in written
                    if o < reserved)
        self.assertLessEqual(twice, again)
        self.assertLessEqual(again, copier.recopied_bytes)
        self.assertLessEqual(copier.recopied_bytes, reserved - w)
        self.assertLessEqual(again, MiB + WINDOW)
        # Holes stay holes.
        self.assertLessEqual(self.allocated(dst), self.allocated(src))
        for offset, length in holes:
            fd = os.open(dst, os.O_RDONLY)
            try:
                self.assertEqual([], list(fsutils.data_extents(
                    fd, offset, offset + length)))
            finally:
                os.close(fd)

    def test_dd_copy_killed_and_resumed(self):
        size = 16 * MiB
        src = self.loop_device(size)
        self.write_data(src, [(0, 10 * MiB), (12 * MiB, 4 * MiB)])
        dst = self.loop_device(size, fill=b'stale!')
        mark = self._crash('dd', src, dst, size, False)
        # Its dd processes died with it (parent death signal).
        time.sleep(0.3)
        self.assertEqual([], _writers_of(dst))
        copier, _ = self._resume(dd.DdCopier, src, dst, size, False, mark,
                                 blocksize=256 * 1024, in_flight=4)
        self.assertEqual(mark['watermark'] // (256 * 1024) * 256 * 1024,
                         copier.resume_from)
        self.assertLessEqual(copier.recopied_bytes,
                             mark['reserved'] - copier.resume_from)


def _writers_of(path):
    """Processes whose command line names ``path`` (a dd left over)."""
    found = []
    for pid in os.listdir('/proc'):
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                args = f.read().split(b'\0')
        except OSError:
            continue
        if ('of=%s' % path).encode() in args:
            found.append(int(pid))
    return found


class RetryTestCase(base.VolumeTestCase):
    """A dd killed -9 mid-copy: the job retries from the watermark."""

    def setUp(self):
        super().setUp()
        self.messaging = self.useFixture(base.MessagingFixture(self.conf))
        self.src_dev = self.loop_device(SIZE)
        self.dst_dev = self.loop_device(SIZE, fill=b'stale!')
        self.backend('src', backend_type='block',
                     block_devices=[self.src_dev])
        self.backend('dst', backend_type='block',
                     block_devices=[self.dst_dev])
        self.flags(group='volume', enabled_backends=['src', 'dst'],
                   migration_progress_report_interval=1,
                   volume_dd_blocksize='256K', volume_copy_mark_interval=4,
                   volume_copy_in_flight=2)
        self.backends = backends.load_backends(self.conf)
        self.reporter = test_job.FakeReporter()

    def test_dd_killed_mid_copy_is_retried_from_its_watermark(self):
        size = SIZE
        src = self.backends['src'].create_volume('a', size)
        self.write_data(self.src_dev, [(0, size)], seed=5)
        dst = self.backends['dst'].create_volume('b', size)
        copies = journal.CopyJournal(self.tmp)
        job = copy_job.CopyJob(
            context.get_admin_context(), self.conf, self.backends,
            self.reporter, notifications.VolumeNotifier('host1'), 'mig-dd',
            'vol-1', src, 'dst', dst, size, journal=copies)
        job.start()
        deadline = time.monotonic() + 60
        while not self._kill_a_dd(job):
            self.assertLess(time.monotonic(), deadline, 'no dd to kill')
            self.assertTrue(job.running, 'the copy ended first')
            time.sleep(0.002)
        self.assertTrue(self.reporter.done.wait(60))
        self.assertEqual([('mig-dd', size, size, None)],
                         self.reporter.finished)
        self.assertEqual(1, job.retries)
        self.assertEqual(1, len(job.resumed_from))
        self.assertGreater(job.resumed_from[0], 0)
        # At most the two segments in flight.
        self.assertLessEqual(job.recopied, size)
        self.assertSameData(self.src_dev, self.dst_dev, size)
        self.assertEqual([], copies.entries())

    @staticmethod
    def _kill_a_dd(job):
        """Kill -9 a dd of the job (started by this test's process)
        that has written something; whether one was killed."""
        return tests_base.kill_a_running_dd(job._copier, min_done=MiB)

    def test_retries_are_bounded(self):
        self.flags(group='volume', volume_copy_retries=0)
        size = MiB
        src = self.backends['src'].create_volume('a', size)
        dst = self.backends['dst'].create_volume('b', size)
        job = copy_job.CopyJob(
            context.get_admin_context(), self.conf, self.backends,
            self.reporter, notifications.VolumeNotifier('host1'), 'mig-dd',
            'vol-1', src, 'dst', dst, size)
        interrupted = copy_base.CopyInterrupted(reason='dd was killed')
        with mock.patch.object(dd.DdCopier, 'run', side_effect=interrupted):
            job.start()
            self.assertTrue(self.reporter.done.wait(60))
        self.assertEqual('error', job.state)
        self.assertIn('dd was killed', job.error)
        self.assertEqual(0, job.retries)


class ThreadSafetyTestCase(base.VolumeTestCase):

    def test_concurrent_completions(self):
        w = watermark.Watermark()
        for start in range(0, 4000, 4):
            w.issue(start, start + 4)
        starts = list(range(0, 4000, 4))
        random.Random(3).shuffle(starts)
        chunks = [starts[i::4] for i in range(4)]
        threads = [threading.Thread(target=lambda c=c: [w.complete(s)
                                                        for s in c])
                   for c in chunks]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(4000, w.value)
