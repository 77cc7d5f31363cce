"""A volume's content as it moves from file to file, and its byte for
byte verification after every migration."""

import collections
import hashlib
import os
import shutil

from benchmarks import common

#: Granularity of the content digests kept for the big volumes.
CHUNK = 16 * common.MiB


class DataMismatch(common.BenchError):
    """A migration lost or corrupted data."""


def random_volume(path, size):
    """A raw file full of random data (from openssl where it is
    installed, else os.urandom); returns the digests of its CHUNK-sized
    pieces."""
    stream = common.Keystream() if shutil.which('openssl') else None
    read = stream.read if stream else os.urandom
    digests = []
    try:
        with open(path, 'wb', buffering=0) as f:
            done = 0
            while done < size:
                data = read(min(CHUNK, size - done))
                f.write(data)
                digests.append(hashlib.sha1(data).digest())
                done += len(data)
            os.fsync(f.fileno())
    finally:
        if stream:
            stream.close()
    common.evict(path)
    return digests


def apply_writes(buf, base, writes):
    """Apply guest writes (offset, length, pattern) to ``buf``, the
    bytes from ``base`` on."""
    end = base + len(buf)
    for offset, length, pattern in writes:
        s, e = max(offset, base), min(offset + length, end)
        if s < e:
            buf[s - base:e - base] = bytes([pattern]) * (e - s)


def first_difference(a, b):
    for i in range(0, min(len(a), len(b)), 512):
        if a[i:i + 512] != b[i:i + 512]:
            return i
    return min(len(a), len(b))


class Chain(object):
    """A volume's content as it moves from file to file: the current
    file and the digests of its CHUNK-sized pieces (known good)."""

    def __init__(self, workdir, name, size):
        self.workdir, self.name, self.size = workdir, name, size
        self.gen = 0
        self.path = self.new_path()
        self.digests = random_volume(self.path, size)
        self.pending = []       # guest writes not yet verified
        self.aid = None         # driver attachment (ours)
        self.target = None

    def new_path(self):
        self.gen += 1
        return os.path.join(self.workdir, '%s-%d.raw'
                            % (self.name, self.gen))

    def verify(self, dst, writes, check_source):
        """``dst`` must hold the chain's content (as of the start of the
        migration, read from the current file where guest writes touched
        it) plus ``writes`` applied in order.  Raises DataMismatch;
        makes ``dst`` the chain's file."""
        buckets = collections.defaultdict(list)
        for w in self.pending + list(writes):
            for ci in range(w[0] // CHUNK, (w[0] + w[1] - 1) // CHUNK + 1):
                buckets[ci].append(w)
        digests = []
        with open(dst, 'rb', buffering=0) as d, \
                open(self.path, 'rb', buffering=0) as s:
            os.posix_fadvise(d.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
            for ci in range(len(self.digests)):
                digests.append(self._verify_chunk(
                    dst, d.fileno(), s.fileno(), ci, buckets.get(ci),
                    check_source))
        old = self.path
        self.path, self.digests, self.pending = dst, digests, []
        os.unlink(old)

    def _verify_chunk(self, dst, dst_fd, src_fd, ci, writes, check_source):
        """The digest of piece ``ci`` of ``dst``, checked against the
        known digest, or (where ``writes`` touched it) against the
        current file's piece with the writes applied."""
        off = ci * CHUNK
        n = min(CHUNK, self.size - off)
        data = os.pread(dst_fd, n, off)
        if len(data) != n:
            raise DataMismatch('%s is short at %d' % (dst, off))
        digest = hashlib.sha1(data).digest()
        if writes:
            ref = bytearray(os.pread(src_fd, n, off))
            if check_source and \
                    hashlib.sha1(ref).digest() != self.digests[ci]:
                raise DataMismatch(
                    'the source %s changed after the freeze '
                    '(bytes %d..%d)' % (self.path, off, off + n))
            apply_writes(ref, off, writes)
            if data != ref:
                raise DataMismatch(
                    '%s differs from the expected content at byte '
                    '%d' % (dst, off + first_difference(data, ref)))
        elif digest != self.digests[ci]:
            raise DataMismatch(
                '%s differs from the source in bytes %d..%d'
                % (dst, off, off + n))
        return digest
