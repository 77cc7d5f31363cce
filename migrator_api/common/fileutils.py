"""Durable writes on local disk: the one implementation every process
uses (journals of the agents, the block backend's state file, overlays).

No pecan and no SQLAlchemy here: the agents use it.
"""

import json
import os
import threading


def fsync(path):
    """Flush a file's (or a directory's) data to disk."""
    fd = os.open(path or '.', os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path):
    """Make the creations, renames and removals in a directory durable."""
    fd = os.open(path or '.', os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_durably(tmp, path):
    """Rename ``tmp`` (written and fsynced) over ``path``, durably."""
    os.replace(tmp, path)
    fsync_dir(os.path.dirname(path))


def write_json_atomic(path, data, mode=0o600, durable=True):
    """Replace ``path`` with ``data`` as JSON so that a crash leaves
    either the old or the new content, both durable (a temporary file,
    fsync, rename, fsync of the directory).  Safe between threads and
    processes: each writer has its own temporary file.

    ``durable=False`` leaves out the fsyncs: the replacement is still
    atomic and survives the death of the process, but a power loss may
    leave the previous content.  For updates whose loss costs only
    freshness (a progress mark), where an fsync of the disk a copy is
    busy with would slow the copy.
    """
    tmp = '%s.tmp.%d.%d' % (path, os.getpid(), threading.get_ident())
    body = json.dumps(data, indent=1, sort_keys=True).encode()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC,
                 mode)
    try:
        view = memoryview(body)
        while view:
            view = view[os.write(fd, view):]
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)
    if durable:
        replace_durably(tmp, path)
    else:
        os.replace(tmp, path)


def is_temporary(name):
    """Whether a file name is one of write_json_atomic's temporaries."""
    return '.tmp.' in name
