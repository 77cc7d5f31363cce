"""migrator-all: the embedded default, everything in one process.

API, conductor, volume worker and -- where libvirt runs -- the compute
agent share one process, SQLite and the in-process messaging transport;
two file backends live under the state directory.  Every default can
still be overridden by a config file.
"""

import os
import sys

from oslo_log import log as logging

from migrator_api.cmd import runner
from migrator_api.common import config
from migrator_api.common import service
from migrator_api.conf import backend as backend_conf

LOG = logging.getLogger(__name__)

EMBEDDED_BACKENDS = ('file1', 'file2')

EMBEDDED_DEFAULTS = {
    (None, 'transport_url'): 'fake:/',
    ('oslo_messaging_notifications', 'driver'): ['log'],
    ('api', 'auth_strategy'): 'noauth',
    ('volume', 'enabled_backends'): list(EMBEDDED_BACKENDS),
    ('volume', 'migration_progress_report_interval'): 1,
}


def _register_embedded_backends(conf):
    for name in EMBEDDED_BACKENDS:
        backend_conf.register_backend_opts(conf, name)
        conf.set_default('backend_type', 'file', group=name)
        conf.set_default('file_path', os.path.join('$state_path', name),
                         group=name)


def main(argv=None):
    stop = service.StopSignal()
    conf = config.CONF
    config.register_library_opts(conf)
    _register_embedded_backends(conf)
    conf = config.parse_args(sys.argv[1:] if argv is None else argv,
                             defaults=EMBEDDED_DEFAULTS)
    os.makedirs(conf.state_path, exist_ok=True)
    services = runner.Runner(conf, stop)
    services.start_api_side(sync_db=True)
    services.start_volume()
    services.start_compute()
    LOG.info('migrator embedded default running (state in %s)',
             conf.state_path)
    return services.run_until_signalled()
