"""Small Linux file and block-device primitives used by the backends and
the copiers."""

import ctypes
import errno
import fcntl
import mmap
import os
import stat
import struct

_LIBC = ctypes.CDLL(None, use_errno=True)
_LIBC.fallocate.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int64,
                            ctypes.c_int64)
_LIBC.memcmp.argtypes = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)
_LIBC.memcmp.restype = ctypes.c_int
#: The most bytes is_zero() checks at once.
ZERO_CHECK_MAX = 64 * 1024
_ZEROES = ctypes.create_string_buffer(ZERO_CHECK_MAX)

FALLOC_FL_KEEP_SIZE = 0x01
FALLOC_FL_PUNCH_HOLE = 0x02
BLKZEROOUT = 0x127f          # _IO(0x12, 127): zero a byte range
BLKSSZGET = 0x1268           # _IO(0x12, 104): logical sector size

#: Errors meaning "this file system or device cannot do that".
UNSUPPORTED = (errno.EOPNOTSUPP, errno.ENOTTY, errno.EINVAL, errno.ENOSYS)


def is_block_device(path):
    return stat.S_ISBLK(os.stat(path).st_mode)


def device_size(path):
    """Size in bytes of a block device (or a file)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return os.lseek(fd, 0, os.SEEK_END)
    finally:
        os.close(fd)


def sector_size(fd):
    """Logical sector size of the block device open as ``fd``."""
    buf = fcntl.ioctl(fd, BLKSSZGET, struct.pack('i', 0))
    return struct.unpack('i', buf)[0]


def supports_direct_io(path, flags):
    """Whether ``path`` can be opened with O_DIRECT (and ``flags``)."""
    try:
        fd = os.open(path, flags | os.O_DIRECT | os.O_CLOEXEC)
    except OSError as e:
        if e.errno == errno.EINVAL:
            return False
        raise
    os.close(fd)
    return True


def punch_hole(fd, offset, length):
    """Deallocate a range of a file; it then reads as zeroes.

    On a block device (range aligned to its logical sectors) the kernel
    turns this into a zeroing that may unmap (WRITE ZEROES with unmap,
    a hole in a loop device's backing file), and refuses with
    EOPNOTSUPP rather than writing the zeroes: when it succeeds the
    range reads as zeroes and holds no data of its own."""
    if _LIBC.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                       offset, length) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def zero_out(fd, offset, length):
    """Make a sector-aligned range of a block device read as zeroes."""
    fcntl.ioctl(fd, BLKZEROOUT, struct.pack('QQ', offset, length))


def data_extents(fd, start, end):
    """Yield the (offset, end) of the ranges of ``fd`` between start and
    end that may hold data, found with SEEK_DATA / SEEK_HOLE; what lies
    between them are holes, which read as zeroes.  Where the file system
    cannot tell, the whole range is one extent.  A block device is one
    extent (the kernel reports no hole in it)."""
    offset = start
    while offset < end:
        try:
            data = os.lseek(fd, offset, os.SEEK_DATA)
        except OSError as e:
            if e.errno == errno.ENXIO:      # only holes from here on
                return
            if e.errno in UNSUPPORTED:
                yield offset, end
                return
            raise
        if data >= end:
            return
        hole = min(os.lseek(fd, data, os.SEEK_HOLE), end)
        if hole <= data:                    # cannot happen; never loop
            hole = end
        yield data, hole
        offset = hole


def has_data(fd, offset, length):
    """Whether a range of a file may hold data (False: all holes)."""
    try:
        data = os.lseek(fd, offset, os.SEEK_DATA)
    except OSError as e:
        if e.errno == errno.ENXIO:
            return False
        if e.errno in UNSUPPORTED:
            return True
        raise
    return data < offset + length


def aligned_buffer(size):
    """A page-aligned anonymous buffer of ``size`` bytes (what O_DIRECT
    needs); its pages take memory only once touched."""
    return mmap.mmap(-1, size)


def buffer_address(buf):
    """Address of a writable buffer (an mmap: it never moves)."""
    return ctypes.addressof(ctypes.c_char.from_buffer(buf))


def is_zero(address, length):
    """Whether ``length`` (<= ZERO_CHECK_MAX) bytes at ``address`` are all
    zero; memcmp, without copying them."""
    return _LIBC.memcmp(address, _ZEROES, length) == 0
