"""WSGI entry point for uwsgi, gunicorn or mod_wsgi.

The server's own command line is never parsed.  The configuration
comes from ``$OS_MIGRATOR_CONFIG_FILE`` when set (one file, or several
separated by commas: what ``migrator-api --config-file F`` passes to the
uwsgi it runs), else from ``$OS_MIGRATOR_CONFIG_DIR/migrator.conf``
when that is set, else from the usual oslo.config places
(/etc/migrator/migrator.conf, ...).  ``$OS_MIGRATOR_CONFIG_DIRS``
(comma-separated) names config directories read after the files (what
``migrator-api --config-dir D`` passes on).

    migrator-api --config-file /etc/migrator/migrator.conf
    uwsgi --ini etc/migrator/api-uwsgi.ini --env OS_MIGRATOR_CONFIG_FILE=F
    gunicorn 'migrator_api.wsgi.api:application'

``application`` sets itself up on its first request, not at import.
"""

import os
import threading

from oslo_log import log as logging

from migrator_api.api import app
from migrator_api.common import config
from migrator_api.common import rpc
from migrator_api.db import api as db_api

LOG = logging.getLogger(__name__)
CONFIG_FILE = 'migrator.conf'

_LOCK = threading.Lock()
_APPLICATION = None


def _config_files():
    files = os.environ.get('OS_MIGRATOR_CONFIG_FILE')
    if files:
        return [f for f in files.split(',') if f]
    config_dir = os.environ.get('OS_MIGRATOR_CONFIG_DIR')
    if not config_dir:
        return None
    path = os.path.join(config_dir, CONFIG_FILE)
    return [path] if os.path.exists(path) else []


def _config_dirs():
    dirs = [d for d in os.environ.get('OS_MIGRATOR_CONFIG_DIRS',
                                      '').split(',') if d]
    return dirs or None


def init_application():
    """Parse the configuration, set up logging, db and rpc; the app.

    Idempotent: a server calling it once per worker thread gets one app.
    """
    global _APPLICATION
    with _LOCK:
        if _APPLICATION is None:
            conf = config.parse_args(
                [], default_config_files=_config_files(),
                default_config_dirs=_config_dirs())
            conf.log_opt_values(LOG, logging.DEBUG)
            db_api.configure(conf)
            if not rpc.initialized():
                rpc.init(conf)
            _APPLICATION = app.setup_app(conf)
        return _APPLICATION


class _Application:
    """The WSGI application, made on the first request of the process
    (of each worker, with uWSGI's lazy-apps): importing this module
    reads no configuration."""

    def __call__(self, environ, start_response):
        return init_application()(environ, start_response)


application = _Application()
