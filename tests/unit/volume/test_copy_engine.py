"""The copy engine's guarantees: several requests in flight without
mixing them up, zeroes and holes right on dirty destinations, sparse
destinations kept sparse, bounded memory, errors and the throttle.

Real files and real loop devices, compared byte for byte."""

import errno
import os
import subprocess
import sys
import textwrap
import threading
from unittest import mock

from migrator_api.common import exception
from migrator_volume import copy as mcopy
from migrator_volume.copy import dd
from migrator_volume.copy import fileio
from migrator_volume.copy import throttle
from migrator_volume import fsutils
from tests.unit.volume import base

MiB = base.MiB
KiB = 1024
GARBAGE = b'\xde\xad\xbe\xef stale data '
# Holes at both ends, data extents of many sizes between them.
RANGES = ((MiB, 4 * KiB), (MiB + 64 * KiB, 700 * KiB), (3 * MiB, 2 * MiB),
          (6 * MiB - 8 * KiB, 8 * KiB), (7 * MiB, 128 * KiB),
          (9 * MiB + 4 * KiB, MiB + 12 * KiB))
SIZE = 12 * MiB


class EngineTestCase(base.VolumeTestCase):

    def copier(self, src, dst, size, dst_zeroed, in_flight=4,
               chunk_size=MiB, bps_limit=0):
        self.flags(group='volume', volume_copy_bps_limit=bps_limit,
                   volume_copy_in_flight=in_flight,
                   file_copy_chunk_size=chunk_size)
        return mcopy.make_copier(src, dst, size, self.conf, dst_zeroed,
                                 label='m1')

    def copy(self, src, dst, size, dst_zeroed, expect=None, **kw):
        copier = self.copier(src, dst, size, dst_zeroed, **kw)
        if expect is not None:
            self.assertIsInstance(copier, expect)
        copier.run()
        self.assertEqual(size, copier.bytes_done)
        self.assertSameData(src, dst, size)
        return copier

    def loop(self, size, fill=None):
        """A loop device and its backing file."""
        dev = self.useFixture(base.LoopDevice(self.tmp, size, fill))
        return dev.path, dev.backing

    def zeroes_in(self, path, offset, length):
        with open(path, 'rb') as f:
            f.seek(offset)
            return f.read(length) == bytes(length)

    def sparse_source(self, zero_data=True):
        src = self.make_file(SIZE, RANGES)
        if zero_data:
            # Zeroes written as data (allocated): 256 KiB in the middle
            # of the 2 MiB extent.
            with open(src, 'r+b') as f:
                f.seek(3 * MiB + 512 * KiB)
                f.write(bytes(256 * KiB))
        return src


class InFlightTestCase(EngineTestCase):

    def test_many_small_requests_in_flight_file_to_file(self):
        src = self.sparse_source()
        dst = self.make_file(SIZE, [(0, SIZE)], seed=9)     # dirty
        copier = self.copy(src, dst, SIZE, True, in_flight=8,
                           chunk_size=64 * KiB, expect=fileio.FileIOCopier)
        self.assertEqual(8 * 64 * KiB, copier.peak_buffer_bytes)
        self.assertEqual(0, copier.buffer_bytes)

    def test_one_request_in_flight(self):
        src = self.sparse_source()
        self.copy(src, self.make_file(SIZE), SIZE, True, in_flight=1,
                  chunk_size=4096)

    def test_dense_unaligned_size_through_every_path(self):
        size = 5 * MiB + 123
        src = self.make_file(size, [(0, size)])
        self.copy(src, self.make_file(size), size, True, in_flight=3,
                  chunk_size=MiB + 4096)
        dev, _backing = self.loop(6 * MiB, fill=GARBAGE)
        self.copy(src, dev, size, False, in_flight=3, chunk_size=MiB + 4096)

    def test_parallel_dd_segments(self):
        size = 9 * MiB + 512
        src, _ = self.loop(10 * MiB)
        self.write_data(src, [(0, 10 * MiB)])
        dst, _ = self.loop(10 * MiB, fill=GARBAGE)
        self.flags(group='volume', volume_dd_blocksize='256K')
        # Segments of 1 MiB: 36 blocks in 9 segments, 3 dd at once.
        with mock.patch.object(dd, 'MAX_SEGMENT', MiB):
            copier = self.copy(src, dst, size, False, in_flight=3,
                               expect=dd.DdCopier)
        self.assertEqual(3, copier.in_flight)

    def test_a_failed_request_fails_the_copy(self):
        src = self.make_file(8 * MiB, [(0, 8 * MiB)])
        dst = self.make_file(8 * MiB)
        real = os.preadv

        def preadv(fd, buffers, offset):
            if offset == 5 * MiB:
                raise OSError(errno.EIO, 'Input/output error')
            return real(fd, buffers, offset)

        copier = self.copier(src, dst, 8 * MiB, True, chunk_size=MiB)
        with mock.patch.object(fileio.os, 'preadv', preadv):
            e = self.assertRaises(exception.CopyFailed, copier.run)
        self.assertIn('offset %d' % (5 * MiB), str(e))
        self.assertIn('Input/output error', str(e))
        self.assertLess(copier.bytes_done, 8 * MiB)
        self.assertEqual(0, copier.buffer_bytes)
        # No worker thread is left behind.
        self.assertFalse([t for t in threading.enumerate()
                          if t.name.startswith('copy-m1-')])

    def test_a_failed_dd_fails_the_copy(self):
        src, _ = self.loop(4 * MiB)
        dst, _ = self.loop(4 * MiB)
        copier = self.copier(src, dst, 4 * MiB, False)
        with mock.patch.object(dd.DdCopier, '_run_dd',
                               side_effect=exception.CopyFailed(
                                   reason='dd exited with 1: boom')):
            e = self.assertRaises(exception.CopyFailed, copier.run)
        self.assertIn('boom', str(e))


class ZeroesAndHolesTestCase(EngineTestCase):
    """A destination that is not known to read as zeroes never keeps
    stale data where the source has a hole or zeroes; one that supports
    it stays sparse."""

    def test_sparse_file_onto_a_dirty_block_device(self):
        src = self.sparse_source()
        dev, backing = self.loop(SIZE, fill=GARBAGE)
        self.copy(src, dev, SIZE, False, expect=fileio.FileIOCopier)
        # Holes at both ends, and the zeroes written as data.
        self.assertTrue(self.zeroes_in(dev, 0, MiB))
        self.assertTrue(self.zeroes_in(dev, 11 * MiB, MiB))
        self.assertTrue(self.zeroes_in(dev, 3 * MiB + 512 * KiB, 256 * KiB))
        # The loop device discards into holes of its backing file: the
        # destination stays sparse.
        data = sum(length for _off, length in RANGES)
        self.assertLessEqual(self.allocated(backing), data + 256 * KiB)

    def test_sparse_block_device_onto_a_dirty_one_with_dd(self):
        src, _ = self.loop(SIZE)                # reads as zeroes
        for offset, length in RANGES:
            self.write_data(src, [(offset, length)], seed=offset)
        dst, backing = self.loop(SIZE, fill=GARBAGE)
        self.copy(src, dst, SIZE, False, expect=dd.DdCopier)
        self.assertTrue(self.zeroes_in(dst, 0, MiB))
        self.assertTrue(self.zeroes_in(dst, 11 * MiB, MiB))
        # Discarded first, then dd conv=sparse: whole zero blocks (1 MiB)
        # stay holes.
        self.assertLessEqual(self.allocated(backing), 8 * MiB)

    def test_device_that_cannot_discard_gets_zeroes_written(self):
        src = self.sparse_source()
        dev, _ = self.loop(SIZE, fill=GARBAGE)
        with mock.patch.object(fsutils, 'punch_hole', side_effect=OSError(
                errno.EOPNOTSUPP, 'Operation not supported')), \
                mock.patch.object(fsutils, 'zero_out', side_effect=OSError(
                    errno.ENOTTY, 'Inappropriate ioctl')):
            self.copy(src, dev, SIZE, False)
        self.assertTrue(self.zeroes_in(dev, 0, MiB))

    def test_dd_onto_a_device_that_cannot_discard(self):
        src, _ = self.loop(SIZE)
        self.write_data(src, [(2 * MiB, MiB)])
        dst, _ = self.loop(SIZE, fill=GARBAGE)
        with mock.patch.object(fsutils, 'punch_hole', side_effect=OSError(
                errno.EOPNOTSUPP, 'Operation not supported')):
            copier = self.copy(src, dst, SIZE, False, expect=dd.DdCopier)
        self.assertFalse(copier._can_punch)
        self.assertTrue(self.zeroes_in(dst, 0, 2 * MiB))

    def test_sparse_file_stays_sparse_and_dirty_file_is_cleaned(self):
        src = self.sparse_source()
        dst = self.make_file(SIZE, [(0, SIZE)], seed=5)     # earlier try
        self.copy(src, dst, SIZE, True)
        data = sum(length for _off, length in RANGES)
        # The zeroes written as data in the source are holes here (and
        # ext4 may take a block for its extent tree).
        self.assertLessEqual(self.allocated(dst), data - 256 * KiB + 8 * KiB)
        with open(dst, 'rb') as f:
            self.assertEqual(MiB, os.lseek(f.fileno(), 0, os.SEEK_DATA))

    def test_block_device_known_to_read_zeroes_is_not_zeroed(self):
        src = self.sparse_source(zero_data=False)
        dev, _ = self.loop(SIZE)                # reads as zeroes
        with mock.patch.object(fsutils, 'punch_hole') as punch, \
                mock.patch.object(fsutils, 'zero_out') as zero_out:
            self.copy(src, dev, SIZE, True)
        punch.assert_not_called()
        zero_out.assert_not_called()


class MemoryTestCase(EngineTestCase):
    """The copier's memory is in_flight buffers of chunk_size bytes,
    whatever the size of the volume."""

    def test_buffers_do_not_grow_with_the_volume(self):
        peaks = []
        for size in (4 * MiB, 32 * MiB):
            src = self.make_file(size, [(0, size)])
            copier = self.copy(src, self.make_file(size), size, True,
                               in_flight=2, chunk_size=MiB)
            peaks.append(copier.peak_buffer_bytes)
        self.assertEqual([2 * MiB, 2 * MiB], peaks)

    def test_peak_rss_of_a_real_copy(self):
        """In a process of its own: copying 96 MiB raises the peak RSS
        by about the buffers (4 x 1 MiB), not by the volume."""
        size = 96 * MiB
        src = self.make_file(size, [(0, size)])
        dst = self.make_file(size)
        script = textwrap.dedent('''
            import sys
            from migrator_volume.copy import fileio

            def hwm():
                with open('/proc/self/status') as f:
                    for line in f:
                        if line.startswith('VmHWM:'):
                            return int(line.split()[1]) * 1024

            before = hwm()
            copier = fileio.FileIOCopier(sys.argv[1], sys.argv[2],
                                         int(sys.argv[3]),
                                         chunk_size=1 << 20, in_flight=4)
            copier.run()
            print(hwm() - before)
        ''')
        repo = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.dirname(os.path.abspath(__file__)))))
        out = subprocess.run([sys.executable, '-c', script, src, dst,
                              str(size)], check=True, capture_output=True,
                             text=True, cwd=repo)
        growth = int(out.stdout.split()[-1])
        self.assertLess(growth, 4 * MiB + 8 * MiB)
        self.assertSameData(src, dst, size)

    def test_the_walk_is_lazy(self):
        # A 1 TiB sparse volume: the queue of work stays bounded while
        # the copy is cancelled early on.
        size = 1024 ** 4
        src = self.make_file(size, [(0, MiB)])
        dst = self.make_file(size)
        copier = self.copier(src, dst, size, True, in_flight=2)
        seen = []
        real = fileio.FileIOCopier._zero_range

        def zero_range(self_, offset, length):
            seen.append(offset)
            if len(seen) == 20:
                copier.cancel()
            return real(self_, offset, length)

        with mock.patch.object(fileio.FileIOCopier, '_zero_range',
                               zero_range):
            self.assertRaises(exception.CopyCancelled, copier.run)
        # A few more than 20 pieces were handed out, not 16384.
        self.assertLess(len(seen), 20 + 2 * 2 + 2 + 1)


class ThrottleTestCase(base.VolumeTestCase):

    def test_reservations_share_one_rate(self):
        now = [100.0]
        t = throttle.Throttle(1000, clock=lambda: now[0])
        self.assertEqual(0.5, t.reserve(500))       # starts empty
        self.assertEqual(1.0, t.reserve(500))       # queued behind
        now[0] += 1.0
        self.assertEqual(0.5, t.reserve(500))
        # Idle for long: at most BURST_SECONDS of credit.
        now[0] += 60
        self.assertAlmostEqual(1.0 - throttle.BURST_SECONDS,
                               t.reserve(1000))

    def test_unlimited(self):
        t = throttle.Throttle(0)
        self.assertEqual(0, t.reserve(10 ** 12))
        self.assertEqual(4 * MiB, t.piece_size(4 * MiB, 4096))

    def test_piece_is_about_a_tenth_of_a_second(self):
        t = throttle.Throttle(10 * MiB)
        self.assertEqual(MiB, t.piece_size(4 * MiB, 4096))
        self.assertEqual(throttle.MIN_PIECE,
                         throttle.Throttle(1000).piece_size(4 * MiB))

    def test_cancel_cuts_the_wait_short(self):
        cancelled = threading.Event()
        cancelled.set()
        t = throttle.Throttle(1, cancelled)
        t.consume(10 ** 6)          # would be 11 days
