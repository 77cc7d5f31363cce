"""qemu-img helpers for the overlays (local qcow2 files)."""

import json
import os
import subprocess

from oslo_log import log as logging

from migrator_api.common import exception
from migrator_api.common import fileutils

LOG = logging.getLogger(__name__)


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


def size_of(path):
    """Size in bytes of a raw file or block device."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.lseek(fd, 0, os.SEEK_END)
    finally:
        os.close(fd)


def create_overlay(overlay, backing, size, backing_fmt='raw'):
    """A qcow2 ``overlay`` backed by ``backing``.  The size is given
    (``-u``) so qemu-img never opens the backing image, which QEMU may
    hold locked."""
    tmp = overlay + '.tmp'
    _run('create', '-q', '-f', 'qcow2', '-F', backing_fmt, '-b', backing,
         '-u', tmp, size)
    fileutils.fsync(tmp)
    fileutils.replace_durably(tmp, overlay)


def rebase_unsafe(overlay, new_backing, backing_fmt='raw'):
    """Point ``overlay`` at ``new_backing`` without copying (the caller
    guarantees the old and new backing images hold the same data)."""
    _run('rebase', '-u', '-f', 'qcow2', '-F', backing_fmt, '-b',
         new_backing, overlay)
    fileutils.fsync(overlay)


def commit(overlay):
    """Write ``overlay``'s data into its backing image (offline).  The
    overlay is not emptied (``-d``), so a repeat after a crash is
    harmless."""
    _run('commit', '-q', '-d', '-f', 'qcow2', overlay)


def backing_of(overlay):
    info = json.loads(_run('info', '-U', '--output=json', '-f', 'qcow2',
                           overlay))
    return info.get('full-backing-filename') or info.get('backing-filename')


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
