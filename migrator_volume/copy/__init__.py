"""Copying a volume's data, and picking how.

dd between two block devices, in-process file I/O whenever a file is
involved (sparse-aware, and the only way to keep a file sparse).  Both
keep ``[volume] volume_copy_in_flight`` requests in flight (dd
processes, or threads each with one buffer of ``file_copy_chunk_size``
bytes): one request at a time does not reach what the disk can do.
A volume of another host (an ``nbd`` location) is read over NBD and
written by the file copy's writer side (copy.nbdio).
See doc/source/admin/copy-benchmark.rst for how they compare with
dd, qemu-img convert and cp.  Every copier records where it can resume
(copy.watermark), and a copy resumed from there copies only the rest.
"""

from migrator_api.rpcapi import payloads
from migrator_volume.copy import dd
from migrator_volume.copy import fileio
from migrator_volume import fsutils

MiB = 1024 * 1024


def make_copier(src, dst, size, conf, dst_zeroed, label=None, **resume):
    """A copier of the first ``size`` bytes of ``src`` (a local path, or
    another host's volume: an ``nbd`` location) onto local path
    ``dst``, set up from the ``[volume]`` and ``[nbd]`` options of
    ``conf``; ``resume``: resume_from, redo_until, on_mark (see
    base.Copier)."""
    kwargs = {'bps_limit': conf.volume.volume_copy_bps_limit,
              'in_flight': conf.volume.volume_copy_in_flight,
              'dst_zeroed': dst_zeroed, 'label': label,
              'mark_bytes': conf.volume.volume_copy_mark_interval * MiB,
              'mark_seconds': conf.volume.volume_copy_mark_seconds}
    kwargs.update(resume)
    if payloads.is_nbd(src):
        from migrator_volume.copy import nbdio   # libnbd: only if needed
        return nbdio.NbdCopier(
            src, dst, size, tls_dir=conf.nbd.tls_dir,
            chunk_size=conf.volume.file_copy_chunk_size, **kwargs)
    if fsutils.is_block_device(src) and fsutils.is_block_device(dst):
        return dd.DdCopier(
            src, dst, size,
            blocksize=dd.parse_blocksize(conf.volume.volume_dd_blocksize),
            **kwargs)
    return fileio.FileIOCopier(
        src, dst, size, chunk_size=conf.volume.file_copy_chunk_size,
        **kwargs)
