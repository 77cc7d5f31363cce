"""qemu-img helpers for the overlays (local qcow2 files) and the
volumes they are backed by.

A volume is ``(kind, path)``: a file or block device by its path, or a
volume of another host (kind ``nbd``) by the unix socket of its bridge
(``bridges.py``), which qemu-img and QEMU open as
``nbd+unix:///volume?socket=<path>`` (``image_name``).
"""

import json
import os
import subprocess
from urllib import parse

from oslo_log import log as logging

from migrator_api.common import exception
from migrator_api.common import fileutils
from migrator_api.rpcapi import payloads

LOG = logging.getLogger(__name__)

#: The export name every bridge serves its volume under.
NBD_EXPORT = 'volume'
_NBD_UNIX = 'nbd+unix'


def _run(*args):
    cmd = ['qemu-img'] + [str(a) for a in args]
    LOG.debug('Running %s', ' '.join(cmd))
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    if proc.returncode:
        raise exception.ComputeError(
            host='localhost',
            reason='%s failed: %s' % (' '.join(cmd), proc.stderr.strip()))
    return proc.stdout


def image_name(kind, path):
    """What qemu-img and an overlay's backing file string call the
    volume ``(kind, path)``."""
    if kind == payloads.NBD:
        return '%s:///%s?socket=%s' % (_NBD_UNIX, NBD_EXPORT, path)
    return path


def path_of(name):
    """The volume path an image name stands for (the socket of an
    ``nbd+unix`` name, else the name)."""
    if name and name.startswith(_NBD_UNIX + '://'):
        sockets = parse.parse_qs(parse.urlsplit(name).query).get('socket')
        return sockets[0] if sockets else name
    return name


def size_of(path):
    """Size in bytes of a raw file or block device."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.lseek(fd, 0, os.SEEK_END)
    finally:
        os.close(fd)


def volume_size(kind, path):
    """Size in bytes of the volume ``(kind, path)`` (an NBD volume's as
    its bridge serves it)."""
    if kind != payloads.NBD:
        return size_of(path)
    info = json.loads(_run('info', '--output=json', '-f', 'raw',
                           image_name(kind, path)))
    return int(info['virtual-size'])


def create_overlay(overlay, kind, backing, size, backing_fmt='raw'):
    """A qcow2 ``overlay`` backed by the volume ``(kind, backing)``.  The
    size is given (``-u``) so qemu-img never opens the backing image,
    which QEMU may hold locked."""
    tmp = overlay + '.tmp'
    _run('create', '-q', '-f', 'qcow2', '-F', backing_fmt, '-b',
         image_name(kind, backing), '-u', tmp, size)
    fileutils.fsync(tmp)
    fileutils.replace_durably(tmp, overlay)


def rebase_unsafe(overlay, kind, new_backing, backing_fmt='raw'):
    """Point ``overlay`` at the volume ``(kind, new_backing)`` without
    copying (the caller guarantees the old and new backing images hold
    the same data)."""
    _run('rebase', '-u', '-f', 'qcow2', '-F', backing_fmt, '-b',
         image_name(kind, new_backing), overlay)
    fileutils.fsync(overlay)


def commit(overlay):
    """Write ``overlay``'s data into its backing image (offline).  The
    overlay is not emptied (``-d``), so a repeat after a crash is
    harmless."""
    _run('commit', '-q', '-d', '-f', 'qcow2', overlay)


def backing_of(overlay):
    """The path of the volume backing ``overlay`` (``path_of``)."""
    info = json.loads(_run('info', '-U', '--output=json', '-f', 'qcow2',
                           overlay))
    return path_of(info.get('full-backing-filename') or
                   info.get('backing-filename'))


def exists(path):
    return bool(path) and os.path.exists(path)


def remove(path):
    if not path:
        return
    try:
        os.unlink(path)
        LOG.debug('Removed %s', path)
    except FileNotFoundError:
        pass
