"""migrator-api: the REST API alone, under uWSGI (as OpenStack deploys
its APIs).

``migrator-api --config-file F`` reads F, then replaces itself with
``uwsgi --ini api-uwsgi.ini`` listening on ``[api] host_ip``:``port``,
whose workers load ``migrator_api.wsgi.api:application`` with the
configuration of F (``OS_MIGRATOR_CONFIG_FILE``).  The ini file is the
first found of: beside F, ``<venv>/etc/migrator/``, the source tree's
``etc/migrator/``, ``/etc/migrator/``.  The conductor runs in
migrator-conductor; migrator-all keeps everything in one process.
"""

import math
import os
import sys

from oslo_log import log as logging

from migrator_api.common import config

LOG = logging.getLogger(__name__)
INI = 'api-uwsgi.ini'
_SOURCE_ETC = os.path.join(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))), 'etc', 'migrator')


def find_ini(config_files):
    places = [os.path.dirname(os.path.abspath(f)) for f in config_files]
    places += [os.path.join(sys.prefix, 'etc', 'migrator'), _SOURCE_ETC,
               '/etc/migrator']
    for place in places:
        path = os.path.join(place, INI)
        if os.path.exists(path):
            return path
    raise RuntimeError('no %s in %s' % (INI, ', '.join(places)))


def uwsgi_argv(conf):
    """The uwsgi command line serving the API as ``conf`` says."""
    files = [os.path.abspath(f) for f in conf.config_file]
    host = conf.api.host_ip
    argv = ['uwsgi', '--ini', find_ini(files),
            '--http-socket', '%s:%d' % ('[%s]' % host if ':' in host
                                        else host, conf.api.port),
            '--socket-timeout',
            str(int(math.ceil(conf.api.client_socket_timeout))),
            '--env', 'OS_MIGRATOR_CONFIG_FILE=%s' % ','.join(files)]
    if conf.config_dir:
        argv += ['--env', 'OS_MIGRATOR_CONFIG_DIRS=%s' % ','.join(
            os.path.abspath(d) for d in conf.config_dir)]
    if sys.prefix != sys.base_prefix:
        argv += ['--virtualenv', sys.prefix]
    return argv


def main(argv=None):
    conf = config.parse_args(sys.argv[1:] if argv is None else argv,
                             prog='migrator-api')
    try:
        command = uwsgi_argv(conf)
    except RuntimeError as exc:
        LOG.error('migrator-api cannot start: %s', exc)
        return 1
    LOG.info('migrator-api: %s', ' '.join(command))
    try:
        os.execvp(command[0], command)
    except OSError as exc:
        LOG.error('migrator-api cannot run uwsgi (Debian: uwsgi-core and '
                  'uwsgi-plugin-python3): %s', exc)
        return 1
