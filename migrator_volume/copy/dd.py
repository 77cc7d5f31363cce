"""Block device to block device copy with ``dd``.

O_DIRECT on both sides when both devices accept it, the block size of
``[volume] volume_dd_blocksize``, ``conv=sparse`` only when the
destination reads as zeroes.  dd copies the whole blocks; a last
partial block is copied in-process, then the destination is fsynced.
Progress is the ``pos:`` of dd's descriptor of the destination in
``/proc/<pid>/fdinfo``.  With a bandwidth limit dd runs in pieces of
about a tenth of a second of bandwidth, each paid for before it runs.
"""

import os
import re
import subprocess

from oslo_log import log as logging

from migrator_api.common import exception
from migrator_volume.copy import base
from migrator_volume import fsutils

LOG = logging.getLogger(__name__)

_UNITS = {'': 1, 'c': 1, 'w': 2, 'b': 512, 'k': 1024, 'K': 1024,
          'kB': 1000, 'KB': 1000, 'M': 1024 ** 2, 'MB': 1000 ** 2,
          'G': 1024 ** 3, 'GB': 1000 ** 3}
_SIZE_RE = re.compile(r'^\s*(\d+)\s*([A-Za-z]*)\s*$')
#: Seconds between two checks of a running dd for cancellation.
WAIT_STEP = 0.05


def parse_blocksize(text):
    """Bytes of a dd block size such as ``512``, ``64K``, ``1M``."""
    match = _SIZE_RE.match(str(text))
    if not match or match.group(2) not in _UNITS or int(match.group(1)) <= 0:
        raise exception.InvalidInput(
            reason='%r is not a dd block size (such as 512, 64K, 1M)'
                   % (text,))
    return int(match.group(1)) * _UNITS[match.group(2)]


class DdCopier(base.Copier):

    def __init__(self, src, dst, size, blocksize=1024 * 1024, **kw):
        super().__init__(src, dst, size, **kw)
        self.blocksize = blocksize
        self._done = 0
        self._proc = None
        self._fd_path = None

    @property
    def bytes_done(self):
        proc = self._proc
        if proc is not None and proc.poll() is None:
            pos = self._dd_position(proc.pid)
            if pos is not None:
                return min(max(pos, self._done), self.size)
        return self._done

    def _dd_position(self, pid):
        """``pos:`` of dd's descriptor of the destination, if open yet."""
        try:
            for fd in os.listdir('/proc/%d/fd' % pid):
                if os.readlink('/proc/%d/fd/%s' % (pid, fd)) == self._fd_path:
                    with open('/proc/%d/fdinfo/%s' % (pid, fd)) as f:
                        for line in f:
                            if line.startswith('pos:'):
                                return int(line.split()[1])
        except OSError:
            pass        # dd just ended, or has not opened it yet
        return None

    def run(self):
        self._fd_path = os.path.realpath(self.dst)
        try:
            self._copy()
        except OSError as e:
            raise exception.CopyFailed(
                reason='%s to %s: %s' % (self.src, self.dst, e))

    def _copy(self):
        bs = self.blocksize
        with open(self.src, 'rb', buffering=0) as src, \
                open(self.dst, 'r+b', buffering=0) as dst:
            self.check_sizes(src.fileno(), dst.fileno())
            sector = max(fsutils.sector_size(src.fileno()),
                         fsutils.sector_size(dst.fileno()))
        direct = (bs % sector == 0
                  and fsutils.supports_direct_io(self.src, os.O_RDONLY)
                  and fsutils.supports_direct_io(self.dst, os.O_WRONLY))
        blocks = self.size // bs
        step = self.throttle.piece_size(blocks * bs, bs) // bs
        LOG.debug('dd %s to %s: %d blocks of %d bytes, %s, %d per run',
                  self.src, self.dst, blocks, bs,
                  'O_DIRECT' if direct else 'buffered', step)
        first = 0
        while first < blocks:
            count = min(step, blocks - first)
            self.throttle.consume(count * bs)
            self.check_cancelled()
            self._run_dd(first, count, direct)
            first += count
            self._done = first * bs
        self._copy_tail(blocks * bs)

    def _run_dd(self, first, count, direct):
        cmd = ['dd', 'if=%s' % self.src, 'of=%s' % self.dst,
               'bs=%d' % self.blocksize, 'skip=%d' % first,
               'seek=%d' % first, 'count=%d' % count, 'status=none',
               'conv=notrunc' + (',sparse' if self.dst_zeroed else '')]
        if direct:
            cmd += ['iflag=direct', 'oflag=direct']
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE,
                                env=dict(os.environ, LC_ALL='C'),
                                start_new_session=True)
        self._proc = proc
        try:
            while True:
                try:
                    proc.wait(WAIT_STEP)
                    break
                except subprocess.TimeoutExpired:
                    if self._cancelled.is_set():
                        proc.kill()
                        proc.wait()
                        self.check_cancelled()
            err = proc.stderr.read().decode(errors='replace').strip()
        finally:
            proc.stderr.close()
        if proc.returncode != 0:
            raise exception.CopyFailed(
                reason='dd exited with %d: %s' % (proc.returncode, err))

    def _copy_tail(self, offset):
        """The bytes after the last whole block, then fsync."""
        self.check_cancelled()
        length = self.size - offset
        with open(self.src, 'rb', buffering=0) as src, \
                open(self.dst, 'r+b', buffering=0) as dst:
            if length:
                data = os.pread(src.fileno(), length, offset)
                if len(data) != length:
                    raise exception.CopyFailed(
                        reason='%s ended at offset %d'
                               % (self.src, offset + len(data)))
                self.throttle.consume(length)
                view = memoryview(data)
                while view:
                    written = os.pwrite(dst.fileno(), view, offset)
                    view, offset = view[written:], offset + written
            os.fsync(dst.fileno())
        self._done = self.size
