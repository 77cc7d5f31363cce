"""Native threads only.

oslo.service picks eventlet unless told otherwise, and oslo.messaging
imports oslo.service.  Every migrator package selects the threading
backend the moment it is imported, before anything else can pick one.
"""

import threading

from oslo_service import backend as _backend


def init_threading_backend():
    """Select oslo.service's threading backend (idempotent)."""
    try:
        _backend.init_backend(_backend.BackendType.THREADING)
    except _backend.exceptions.BackendAlreadySelected:
        raise RuntimeError('oslo.service was already set to eventlet; '
                           'migrator runs on native threads only')


def spawn(name, target, *args, **kwargs):
    """Start a daemon thread running target(*args, **kwargs)."""
    thread = threading.Thread(target=target, args=args, kwargs=kwargs,
                              name=name, daemon=True)
    thread.start()
    return thread
