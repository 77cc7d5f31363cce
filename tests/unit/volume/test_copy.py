"""Copies between real files and real loop devices, compared byte for
byte."""

import os
import subprocess
import threading
import time

from migrator_api.common import exception
from migrator_volume import copy as mcopy
from migrator_volume.copy import dd
from migrator_volume.copy import fileio
from tests.unit.volume import base

MiB = base.MiB
GARBAGE = b'\xde\xad\xbe\xef stale data '
# Holes at both ends and in the middle.
SPARSE_RANGES = ((3 * MiB, MiB + 4096), (7 * MiB + 8192, 512 * 1024))
SPARSE_SIZE = 12 * MiB


class CopyTestCase(base.VolumeTestCase):

    def copier(self, src, dst, size, dst_zeroed, bps_limit=0):
        self.flags(group='volume', volume_copy_bps_limit=bps_limit)
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

    def test_dense_file_to_file(self):
        size = 9 * MiB
        src = self.make_file(size, [(0, size)])
        dst = self.make_file(size)
        self.copy(src, dst, size, True, expect=fileio.FileIOCopier)

    def test_sparse_file_to_file_stays_sparse(self):
        src = self.make_file(SPARSE_SIZE, SPARSE_RANGES)
        # Zeroes written into the data: they become holes too.
        with open(src, 'r+b') as f:
            f.seek(3 * MiB + 8 * 4096)
            f.write(bytes(256 * 1024))
        dst = self.make_file(SPARSE_SIZE)
        self.copy(src, dst, SPARSE_SIZE, True)
        data = sum(length for _off, length in SPARSE_RANGES)
        self.assertLessEqual(self.allocated(dst), data)
        with open(dst, 'rb') as f:
            self.assertEqual(3 * MiB, os.lseek(f.fileno(), 0, os.SEEK_DATA))

    def test_onto_a_dirty_file(self):
        # A retried copy: the destination file holds other data.
        src = self.make_file(SPARSE_SIZE, SPARSE_RANGES)
        dst = self.make_file(SPARSE_SIZE, [(0, SPARSE_SIZE)], seed=7)
        self.copy(src, dst, SPARSE_SIZE, True)
        self.assertLess(self.allocated(dst), 2 * MiB)

    def test_shorter_destination_file_grows(self):
        src = self.make_file(3 * MiB, [(0, MiB)])
        dst = self.make_file(MiB)
        self.copy(src, dst, 3 * MiB, True)
        self.assertEqual(3 * MiB, os.path.getsize(dst))

    def test_sparse_file_to_dirty_block_device(self):
        src = self.make_file(SPARSE_SIZE, SPARSE_RANGES)
        dev = self.loop_device(16 * MiB, fill=GARBAGE)
        self.copy(src, dev, SPARSE_SIZE, False, expect=fileio.FileIOCopier)

    def test_block_to_block_with_dd(self):
        size = 6 * MiB
        src = self.loop_device(8 * MiB, fill=b'\0')
        self.write_data(src, [(0, 2 * MiB), (5 * MiB, MiB)])
        dst = self.loop_device(8 * MiB, fill=GARBAGE)
        self.copy(src, dst, size, False, expect=dd.DdCopier)

    def test_block_to_block_size_not_a_multiple_of_the_block_size(self):
        size = 3 * MiB + 1000
        self.flags(group='volume', volume_dd_blocksize='1M')
        src = self.loop_device(4 * MiB)
        self.write_data(src, [(0, 4 * MiB)])
        dst = self.loop_device(4 * MiB, fill=GARBAGE)
        self.copy(src, dst, size, False, expect=dd.DdCopier)
        with open(dst, 'rb') as f:   # nothing written past the end
            f.seek(size)
            self.assertEqual((GARBAGE * 2)[size % len(GARBAGE):][:10],
                             f.read(10))

    def test_file_size_not_a_multiple_of_the_block_size(self):
        size = 5 * MiB + 123
        src = self.make_file(size, [(0, size)])
        dst = self.make_file(size)
        self.copy(src, dst, size, True)
        dev = self.loop_device(6 * MiB, fill=GARBAGE)
        self.copy(src, dev, size, False)

    def test_block_to_file_stays_sparse(self):
        src = self.loop_device(8 * MiB, fill=b'\0')
        self.write_data(src, [(MiB, MiB)])
        dst = self.make_file(8 * MiB)
        self.copy(src, dst, 8 * MiB, True, expect=fileio.FileIOCopier)
        self.assertLessEqual(self.allocated(dst), MiB + 64 * 1024)

    def test_source_too_small(self):
        src = self.make_file(MiB, [(0, MiB)])
        dst = self.make_file(2 * MiB)
        self.assertRaises(exception.CopyFailed,
                          self.copier(src, dst, 2 * MiB, True).run)
        dev = self.loop_device(MiB)
        big = self.make_file(2 * MiB, [(0, MiB)])
        self.assertRaises(exception.CopyFailed,
                          self.copier(big, dev, 2 * MiB, False).run)

    def _throttled(self, src, dst, size, limit, dst_zeroed, expect):
        """The rate of a real throttled copy (size over the time run()
        took, fsync included) is within 10% of the limit: never more
        than the limit allows, and not much less either (the limit is
        far below what the disk does, so the copy is paced by the
        throttle alone)."""
        started = time.monotonic()
        self.copy(src, dst, size, dst_zeroed, bps_limit=limit,
                  expect=expect)
        rate = size / (time.monotonic() - started)
        self.assertGreaterEqual(rate, 0.9 * limit)
        self.assertLessEqual(rate, 1.1 * limit)

    def test_throttled_file_copy(self):
        size = 10 * MiB
        src = self.make_file(size, [(0, size)])
        self._throttled(src, self.make_file(size), size, 4 * MiB, True,
                        fileio.FileIOCopier)

    def test_throttled_file_copy_onto_a_block_device(self):
        size = 10 * MiB
        src = self.make_file(size, [(0, size)])
        dst = self.loop_device(size, fill=GARBAGE)
        self._throttled(src, dst, size, 4 * MiB, False, fileio.FileIOCopier)

    def test_throttled_dd_copy(self):
        size = 10 * MiB
        src = self.loop_device(size)
        self.write_data(src, [(0, size)])
        dst = self.loop_device(size)
        self._throttled(src, dst, size, 4 * MiB, False, dd.DdCopier)

    def _cancel_mid_copy(self, src, dst, size, dst_zeroed):
        copier = self.copier(src, dst, size, dst_zeroed, bps_limit=2 * MiB)
        errors = []

        def run():
            try:
                copier.run()
            except exception.CopyCancelled as e:
                errors.append(e)

        thread = threading.Thread(target=run)
        thread.start()
        while copier.bytes_done < MiB and thread.is_alive():
            time.sleep(0.05)
        copier.cancel()
        thread.join()
        self.assertEqual(1, len(errors))
        self.assertIn('m1', str(errors[0]))
        self.assertLess(copier.bytes_done, size)

    def test_cancel_file_copy(self):
        size = 16 * MiB
        src = self.make_file(size, [(0, size)])
        self._cancel_mid_copy(src, self.make_file(size), size, True)

    def test_cancel_dd_copy(self):
        size = 16 * MiB
        src = self.loop_device(size)
        self.write_data(src, [(0, size)])
        self._cancel_mid_copy(src, self.loop_device(size), size, False)


class DdTestCase(base.VolumeTestCase):

    def test_parse_blocksize(self):
        for text, value in (('512', 512), ('64K', 65536), ('1M', MiB),
                            ('4M', 4 * MiB), ('1MB', 10 ** 6), ('2b', 1024),
                            (' 1G ', 1024 ** 3)):
            self.assertEqual(value, dd.parse_blocksize(text))
        for text in ('', '0', '1Q', '-1M', 'M', '1.5M'):
            self.assertRaises(exception.InvalidInput, dd.parse_blocksize, text)

    def test_progress_from_fdinfo(self):
        """bytes_done is dd's position in the destination."""
        dst = self.loop_device(MiB)
        copier = dd.DdCopier('/dev/zero', dst, MiB, blocksize=4096)
        copier._fd_path = os.path.realpath(dst)
        proc = subprocess.Popen(
            ['dd', 'of=%s' % dst, 'bs=4096', 'seek=3', 'iflag=fullblock',
             'status=none'], stdin=subprocess.PIPE)
        self.addCleanup(proc.wait)
        # A dd of a segment starting at block 3, with 2 blocks written.
        copier._running[proc] = (3 * 4096, 10 * 4096)
        copier._done = 4096         # and one finished segment
        proc.stdin.write(bytes(8192))
        proc.stdin.flush()
        deadline = time.monotonic() + 30
        while copier.bytes_done != 3 * 4096 and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual(3 * 4096, copier.bytes_done)
        proc.stdin.close()
