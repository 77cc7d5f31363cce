"""The shapes that travel over RPC, and their one set of helpers.

Locations
    A volume's location is a connection description in the shape of
    Cinder's ``connection_info``, never a bare path::

        {"driver_volume_type": "file",  "data": {"path": "/srv/a/volume-ID"}}
        {"driver_volume_type": "block", "data": {"device_path": "/dev/loop3",
                                                 "size": 1073741824}}
        {"driver_volume_type": "nbd",   "data": {"host": "10.77.0.2",
                                                 "port": 10809,
                                                 "export": "volume-ID",
                                                 "size": 1073741824,
                                                 "tls": true}}

    Only the volume worker that owns a location turns it into a local
    path (after checking that it points into its backend); a compute
    agent opens what the description names.  An ``nbd`` location is a
    volume of another host, exported by that host's volume worker over
    NBD (TLS with x509 certificates: only the hosts the export names may
    connect).

Exports (``VolumeAPI.export_volume``/``unexport_volume``)
    An export is named after what it grants (``export_name``): which
    volume, to which hosts, read-only or writable.  Asking for the same
    export again finds the one that runs, and the conductor names the
    export it closes from the rows it holds, without recording a name.

Copy status (``VolumeAPI.get_copy_status``)
    ``{"state": "running"|"done"|"error"|"cancelled", "bytes_done",
    "bytes_total", "error": str|None}``, or None for a copy the worker
    does not know.

Progress (``ConductorAPI.copy_progress``/``copy_finished``)
    ``bytes_done`` of ``bytes_total``; ``percentage()`` is the one way
    every process turns them into a percentage.

Backend stats (``ConductorAPI.report_state``, ``VolumeAPI.get_backend_stats``)
    ``{"name", "backend_type", "capabilities": {...},
    "total_capacity_bytes", "free_capacity_bytes"}``.
"""

import hashlib
import os

from migrator_api.common import exception

FILE = 'file'
BLOCK = 'block'
NBD = 'nbd'
#: ``driver_volume_type`` -> the ``data`` key naming the local path.
PATH_KEYS = {FILE: 'path', BLOCK: 'device_path'}

COPY_RUNNING = 'running'
COPY_DONE = 'done'
COPY_ERROR = 'error'
COPY_CANCELLED = 'cancelled'
COPY_ENDED = (COPY_DONE, COPY_ERROR, COPY_CANCELLED)


def file_location(path):
    return {'driver_volume_type': FILE, 'data': {'path': path}}


def block_location(device_path, size):
    return {'driver_volume_type': BLOCK,
            'data': {'device_path': device_path, 'size': size}}


def nbd_location(host, port, export, size, tls=True):
    return {'driver_volume_type': NBD,
            'data': {'host': host, 'port': port, 'export': export,
                     'size': size, 'tls': bool(tls)}}


def export_name(volume_id, clients, writable):
    """The name of the export of ``volume_id`` to the hosts ``clients``
    (``rw`` writable, ``ro`` read-only): the same grant, the same name."""
    digest = hashlib.sha256('\n'.join(sorted(set(clients))).encode())
    return '%s.%s.%s' % (volume_id, 'rw' if writable else 'ro',
                         digest.hexdigest()[:16])


def is_nbd(location):
    return isinstance(location, dict) and \
        location.get('driver_volume_type') == NBD


def nbd_uri(location):
    """``nbd://host:port/export`` of an nbd location (InvalidInput for
    anything else)."""
    data = location.get('data') if is_nbd(location) else None
    if not isinstance(data, dict) or not isinstance(data.get('host'), str) \
            or not isinstance(data.get('port'), int) or \
            not isinstance(data.get('export'), str):
        raise exception.InvalidInput(
            reason='not an nbd location with host, port and export: %r'
                   % (location,))
    return 'nbd://%s:%d/%s' % (data['host'], data['port'], data['export'])


def location_path(location, kinds=tuple(PATH_KEYS)):
    """``(kind, path)`` of a location of one of ``kinds``; InvalidInput
    for anything else (not a dict, another type, a relative path)."""
    if not isinstance(location, dict):
        raise exception.InvalidInput(
            reason='a location must be a connection description (a dict), '
                   'not %r' % (location,))
    kind = location.get('driver_volume_type')
    if kind not in kinds:
        raise exception.InvalidInput(
            reason='unsupported driver_volume_type %r (supported: %s)'
                   % (kind, ', '.join(kinds)))
    data = location.get('data')
    path = data.get(PATH_KEYS[kind]) if isinstance(data, dict) else None
    if not isinstance(path, str) or not os.path.isabs(path):
        raise exception.InvalidInput(
            reason='a %s location needs an absolute data.%s, not %r'
                   % (kind, PATH_KEYS[kind], location))
    return kind, path


def location_size(location, default):
    """The size a location records (a block device's), else ``default``."""
    data = location.get('data') if isinstance(location, dict) else None
    size = data.get('size') if isinstance(data, dict) else None
    return size if isinstance(size, int) and size > 0 else default


def copy_status(state, bytes_done, bytes_total, error=None):
    return {'state': state, 'bytes_done': bytes_done,
            'bytes_total': bytes_total, 'error': error}


def backend_stats(name, backend_type, capabilities, total, free):
    return {'name': name, 'backend_type': backend_type,
            'capabilities': capabilities, 'total_capacity_bytes': total,
            'free_capacity_bytes': free}


def percentage(bytes_done, bytes_total):
    """Percentage done, rounded to 0.1, between 0 and 100 (0 when the
    total is not known)."""
    if not bytes_total:
        return 0.0
    return round(min(100.0, max(0.0, 100.0 * bytes_done / bytes_total)), 1)
