"""Copy from another host's volume, read over NBD (libnbd, TLS).

The source is an ``nbd`` location (payloads.nbd_location): a volume
that its own host's volume worker exports to this host.  Everything
but the reading is the in-process file copy's (copy.fileio): the walk,
the requests in flight, the zero detection, the writes, the holes made
on the destination, the throttle, cancel and progress.

What the source holds is learnt from the server's block status
(``base:allocation``): the extents it reports as reading zero (holes,
zeroed ranges) are never read nor written as data, so that a file
destination stays as sparse as the source.  The walk asks for the
extents of the next stretch only as it needs them (bounded memory
whatever the size of the volume).

Each worker thread reads through a connection of its own (QEMU's NBD
server allows several connections to one export; libnbd's calls
release the GIL) straight into its buffer, with TCP keepalive so that
a read from a host that went away fails instead of waiting for ever.  The
connections authenticate with this host's x509 credentials (``[nbd]
tls_dir``): the exporting host allows only the hosts the export names.
"""

import os
import socket

import nbd

from migrator_api.common import exception
from migrator_api.rpcapi import payloads
from migrator_volume.copy import base
from migrator_volume.copy import fileio

#: Bytes of the source one block status request covers at most.
STATUS_SPAN = 1 << 30
#: The most bytes one NBD read asks for (QEMU serves at most 32 MiB).
MAX_READ = 32 * 1024 * 1024
#: TCP keepalive of the connections: a server host that stopped
#: answering is given up after about a minute.
KEEPALIVE = ((socket.TCP_KEEPIDLE, 15), (socket.TCP_KEEPINTVL, 5),
             (socket.TCP_KEEPCNT, 6), (socket.TCP_USER_TIMEOUT, 60000))
#: base:allocation: the range reads as zeroes.
STATE_ZERO = 2


class NbdCopier(fileio.FileIOCopier):
    """:param src: the source's ``nbd`` location.
    :param tls_dir: this host's credentials (``[nbd] tls_dir``).
    """

    def __init__(self, src, dst, size, tls_dir=None, **kw):
        self.location = src
        self.tls_dir = tls_dir
        super().__init__(payloads.nbd_uri(src), dst, size, **kw)
        self._plan_handle = None
        self._has_status = False

    def run(self):
        try:
            super().run()
        except nbd.Error as e:
            raise base.CopyInterrupted(reason='reading %s: %s'
                                       % (self.src, e))

    def _connect(self, meta=False):
        data = self.location['data']
        handle = nbd.NBD()
        if data.get('tls', True):
            if not self.tls_dir:
                raise exception.CopyFailed(
                    reason='%s needs TLS, and this host has no [nbd] '
                           'tls_dir' % self.src)
            handle.set_tls(nbd.TLS_REQUIRE)
            handle.set_tls_certificates(self.tls_dir)
        if meta:
            handle.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION)
        handle.set_export_name(data['export'])
        handle.connect_tcp(data['host'], str(data['port']))
        _keepalive(handle.aio_get_fd())
        return handle

    def _open_source(self, stack):
        self._plan_handle = self._connect(meta=True)
        stack.callback(_close, self._plan_handle)
        self._has_status = self._plan_handle.can_meta_context(
            nbd.CONTEXT_BASE_ALLOCATION)

    def _source_size(self):
        return self._plan_handle.get_size()

    def _data_extents(self, start, end):
        if not self._has_status:
            yield start, end
            return
        pending = None
        offset = start
        while offset < end:
            pos = offset
            for length, flags in self._status(offset, end):
                stop = min(pos + length, end)
                if flags & STATE_ZERO:
                    if pending is not None:
                        yield pending
                        pending = None
                else:
                    pending = (pending[0] if pending else pos, stop)
                pos = stop
                if pos >= end:
                    break
            if pos <= offset:
                raise exception.CopyFailed(
                    reason='%s: the server described nothing of offset %d'
                           % (self.src, offset))
            offset = pos
        if pending is not None:
            yield pending

    def _status(self, offset, end):
        """(length, flags) of the extents from ``offset`` on, as far as
        the server describes in one answer."""
        entries = []

        def _extent(context, _offset, found, _error):
            if context == nbd.CONTEXT_BASE_ALLOCATION:
                entries.extend(found)
            return 0
        self._plan_handle.block_status(min(end - offset, STATUS_SPAN),
                                       offset, _extent)
        return list(zip(entries[0::2], entries[1::2]))

    def _source_reader(self, stack):
        handle = self._connect()
        stack.callback(_close, handle)

        def read(view, offset):
            done = 0
            while done < len(view):
                n = min(MAX_READ, len(view) - done)
                self._read_nbd(handle, view[done:done + n], offset + done)
                done += n
        return read

    @staticmethod
    def _read_nbd(handle, view, offset):
        # Straight into the worker's buffer.  (A view, not an nbd.Buffer:
        # libnbd 1.14 never releases the buffer an nbd.Buffer wraps.)
        cookie = handle.aio_pread(view, offset)
        while not handle.aio_command_completed(cookie):
            handle.poll(-1)

    def _source_error(self, error):
        if isinstance(error, nbd.Error):
            # The connection may come back: the job retries.
            return base.CopyInterrupted(reason='reading %s: %s'
                                        % (self.src, error))
        return error


def _keepalive(fd):
    """A read waits for the server for ever: have the kernel give up on
    a server host that stopped answering."""
    sock = socket.socket(fileno=os.dup(fd))
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for option, value in KEEPALIVE:
            sock.setsockopt(socket.IPPROTO_TCP, option, value)
    finally:
        sock.close()


def _close(handle):
    try:
        handle.shutdown()
    except nbd.Error:
        pass            # the connection is gone already
