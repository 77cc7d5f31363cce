"""Parsing the configuration and setting up logging for a command.

No pecan and no SQLAlchemy here: the agents use it too.
"""

from oslo_log import log as logging

from migrator_api import conf as mconf
from migrator_api.conf import opts as conf_opts

CONF = mconf.CONF


def register_library_opts(conf):
    """Register oslo.messaging's options so defaults can be set early."""
    from oslo_messaging import opts as messaging_opts
    for group, opts in messaging_opts.list_opts():
        group = getattr(group, 'name', group) or 'DEFAULT'
        for opt in opts:
            if group == 'DEFAULT':
                conf.register_opt(opt)
            else:
                conf.register_opt(opt, group=group)


def parse_args(argv, default_config_files=None, defaults=None):
    """Parse argv (without the program name) and set up logging.

    ``defaults`` maps (group, name) to a default applied before parsing,
    for commands such as migrator-all that embed their own defaults.
    """
    logging.register_options(CONF)
    conf_opts.set_defaults(CONF)
    for (group, name), value in (defaults or {}).items():
        CONF.set_default(name, value, group=group)
    CONF(argv, project='migrator',
         default_config_files=default_config_files)
    logging.setup(CONF, 'migrator')
    return CONF
