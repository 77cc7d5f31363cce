"""The copy benchmark's volumes: a dense file, a sparse file and a pair
of loop devices, with the digests of their content."""

import os
import random
import shutil
import subprocess

from benchmarks import common
from benchmarks.copy import log
from benchmarks.copy import verify
from migrator_api.common import fileutils
from migrator_testing import hosts

KiB, MiB, GiB = common.KiB, common.MiB, common.GiB
GARBAGE = b'\xde\xad\xbe\xef stale data of another volume '


def write_ranges(path, ranges, seed):
    """Write pseudo-random data into each (offset, length)."""
    stream = common.Keystream(seed)
    fd = os.open(path, os.O_WRONLY)
    try:
        for offset, length in ranges:
            while length > 0:
                n = min(length, 8 * MiB)
                view = memoryview(stream.read(n))
                while view:
                    w = os.pwrite(fd, view, offset)
                    view, offset = view[w:], offset + w
                length -= n
        os.fsync(fd)
    finally:
        os.close(fd)
        stream.close()


def sparse_layout(size, fraction, seed=42):
    """Scattered extents covering about ``fraction`` of ``size``, none
    in the first and last 1/32 of the volume (holes at both ends)."""
    rnd = random.Random(seed)
    grain = 64 * KiB
    margin = max(size // 32, grain)
    lo, hi = margin, size - margin
    target = int(size * fraction)
    extents = []
    total = 0
    attempts = 0
    while total < target and attempts < 100000:
        attempts += 1
        length = rnd.randrange(4, 97) * grain          # 256 KiB .. 6 MiB
        length = min(length, target - total + grain - 1) // grain * grain
        if length <= 0:
            break
        offset = rnd.randrange(lo // grain, (hi - length) // grain) * grain
        # Keep a hole between any two extents.
        if any(offset < e + n + grain and e < offset + length + grain
               for e, n in extents):
            continue
        extents.append((offset, length))
        total += length
    return sorted(extents)


def allocated(path):
    return os.stat(path).st_blocks * 512


class Volumes:
    """``dense``, ``sparse`` and the ``block`` pair under ``directory``;
    ``refs``: the digests of each source."""

    def __init__(self, args, directory):
        self.args = args
        self.dir = directory
        self.loops = []             # (device, backing file)
        self.sparse_layout = []

    def path(self, name):
        return os.path.join(self.dir, name)

    def prepare(self):
        a = self.args
        free = common.check_free(
            self.dir, 2 * a.dense_size + 2 * a.sparse_size * a.sparse_fraction
            + a.sparse_size + 2 * a.block_size + GiB)
        log('Preparing volumes in %s (%s free)', self.dir,
            common.human_size(free))
        self.dense = self.path('dense.raw')
        common.fresh_file(self.dense, a.dense_size)
        write_ranges(self.dense, [(0, a.dense_size)], 'dense')
        self.sparse = self.path('sparse.raw')
        common.fresh_file(self.sparse, a.sparse_size)
        self.sparse_layout = sparse_layout(a.sparse_size, a.sparse_fraction)
        write_ranges(self.sparse, self.sparse_layout, 'sparse')
        self._prepare_block()
        self._log_layout()
        log('Reading the sources for their digests')
        self.refs = {
            'dense': verify.Reference(self.dense, a.dense_size),
            'sparse': verify.Reference(self.sparse, a.sparse_size),
            'block': verify.Reference(self.block_src, a.block_size),
        }
        self.dst_dir = self.path('dst')
        os.makedirs(self.dst_dir, exist_ok=True)

    def _prepare_block(self):
        size = self.args.block_size
        self.block_src = self._loop(self.path('block-src.img'), size)
        self.block_dst = self._loop(self.path('block-dst.img'), size)
        subprocess.run(['dd', 'if=%s' % self.dense, 'of=%s' % self.block_src,
                        'bs=4M', 'count=%d' % (size // (4 * MiB)),
                        'iflag=direct', 'oflag=direct', 'status=none'],
                       check=True)
        fileutils.fsync(self.block_src)

    def _loop(self, backing, size):
        """A loop device with O_DIRECT over a new file of ``size``."""
        common.fresh_file(backing, size)
        device = hosts.attach_loop(backing, direct_io=True)
        self.loops.append((device, backing))
        return device

    def _log_layout(self):
        a, layout = self.args, self.sparse_layout
        data = sum(n for _o, n in layout)
        log('dense %s; sparse %s with %d extents, %s of data (%.1f%%), '
            'first at %s, last ending %s before the end; block pair %s, '
            '%s of %s', common.human_size(a.dense_size),
            common.human_size(a.sparse_size), len(layout),
            common.human_size(data), 100.0 * data / a.sparse_size,
            common.human_size(layout[0][0]),
            common.human_size(a.sparse_size - layout[-1][0] -
                              layout[-1][1]),
            self.block_src, self.block_dst,
            common.human_size(a.block_size))

    def dirty_block_dst(self, seed):
        """Discard the destination device, then write garbage at
        scattered places: stale data of an earlier volume."""
        from migrator_volume import fsutils
        size = self.args.block_size
        fd = os.open(self.block_dst, os.O_WRONLY)
        try:
            fsutils.punch_hole(fd, 0, size)
            rnd = random.Random(seed)
            blob = (GARBAGE * (MiB // len(GARBAGE) + 1))[:MiB]
            for _ in range(32):
                offset = rnd.randrange(size // MiB) * MiB
                os.pwrite(fd, blob, offset)
            os.fsync(fd)
        finally:
            os.close(fd)

    def cleanup(self):
        """Detach the loop devices (those still ours), remove the
        directory unless ``--keep``."""
        for device, backing in reversed(self.loops):
            hosts.detach_loop(device, backing)
        self.loops = []
        if not self.args.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
