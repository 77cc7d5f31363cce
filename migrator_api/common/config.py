"""Parsing the configuration and setting up logging for a command.

No pecan and no SQLAlchemy here: the agents use it too.
"""

from oslo_log import log as logging

from migrator_api import conf as mconf
from migrator_api.conf import opts as conf_opts

CONF = mconf.CONF


def register_library_opts(conf):
    """Register the oslo.messaging options migrator sets defaults for.

    oslo.messaging registers them only when a transport or notifier is
    made, which is too late to give them defaults (migrator-all) or
    overrides (tests).  Its list_opts() returns copies, which would
    clash with its own registration, hence the module attributes.
    """
    from oslo_messaging.notify import notifier
    from oslo_messaging import transport
    conf.register_opts(transport._transport_opts)
    conf.register_opts(notifier._notifier_opts,
                       group='oslo_messaging_notifications')


def parse_args(argv, default_config_files=None, defaults=None, prog=None,
               default_config_dirs=None):
    """Parse argv (without the program name) and set up logging.

    ``defaults`` maps (group, name) to a default applied before parsing,
    for commands such as migrator-all that embed their own defaults.
    """
    logging.register_options(CONF)
    conf_opts.set_defaults(CONF)
    for (group, name), value in (defaults or {}).items():
        CONF.set_default(name, value, group=group)
    CONF(argv, project='migrator', prog=prog,
         default_config_files=default_config_files,
         default_config_dirs=default_config_dirs)
    logging.setup(CONF, 'migrator')
    return CONF
