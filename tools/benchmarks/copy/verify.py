"""The sources' digests, taken once, and the check of every
destination against them."""

import errno
import hashlib
import os

from benchmarks import common

#: Granularity of the verification digests.
CHUNK = 4 * common.MiB
_ZERO_DIGESTS = {}


def _extents(fd, size):
    out = []
    offset = 0
    while offset < size:
        try:
            data = os.lseek(fd, offset, os.SEEK_DATA)
        except OSError as e:
            if e.errno == errno.ENXIO:
                break
            return [(0, size)]
        if data >= size:
            break
        hole = min(os.lseek(fd, data, os.SEEK_HOLE), size)
        out.append((data, hole))
        offset = hole
    return out


def _chunks_with_data(path, size):
    """Indexes of the CHUNK-sized pieces of ``path`` (its first
    ``size`` bytes) that may hold data."""
    chunks = set()
    fd = os.open(path, os.O_RDONLY)
    try:
        for start, end in _extents(fd, size):
            chunks.update(range(start // CHUNK, (end - 1) // CHUNK + 1))
    finally:
        os.close(fd)
    return chunks


def _zero_digest(n):
    if n not in _ZERO_DIGESTS:
        _ZERO_DIGESTS[n] = hashlib.sha1(bytes(n)).digest()
    return _ZERO_DIGESTS[n]


def _read_digests(path, size, chunks):
    """{chunk: sha1} of the given chunks, read without filling the page
    cache."""
    digests = {}
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, size, os.POSIX_FADV_SEQUENTIAL)
        for index in sorted(chunks):
            offset = index * CHUNK
            n = min(CHUNK, size - offset)
            data = os.pread(fd, n, offset)
            while len(data) < n:
                more = os.pread(fd, n - len(data), offset + len(data))
                if not more:
                    raise common.BenchError(
                        '%s ends at %d' % (path, offset + len(data)))
                data += more
            digests[index] = hashlib.sha1(data).digest()
            if index % 16 == 15:
                os.posix_fadvise(fd, 0, offset + n, os.POSIX_FADV_DONTNEED)
        os.posix_fadvise(fd, 0, size, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    return digests


class Reference:
    """The digests of the first ``size`` bytes of a source, taken
    once."""

    def __init__(self, path, size):
        self.path = path
        self.size = size
        self.data_chunks = _chunks_with_data(path, size)
        self.digests = _read_digests(path, size, self.data_chunks)

    def expected(self, index):
        if index in self.digests:
            return self.digests[index]
        return _zero_digest(min(CHUNK, self.size - index * CHUNK))

    def verify(self, dst):
        """Read every byte of dst that may hold data (and those where
        the source does) and compare; raise BenchError at the first
        difference."""
        chunks = _chunks_with_data(dst, self.size) | self.data_chunks
        digests = _read_digests(dst, self.size, chunks)
        for index in sorted(chunks):
            if digests[index] != self.expected(index):
                offset = index * CHUNK
                raise common.BenchError(
                    '%s differs from %s in bytes %d to %d'
                    % (dst, self.path, offset,
                       min(offset + CHUNK, self.size)))
        return len(chunks) * CHUNK
