"""Configuration: one module per option group.

Nothing here reads the configuration; ``register_opts`` only declares
the options on a ConfigOpts.
"""

from oslo_config import cfg

from migrator_api.conf import api
from migrator_api.conf import compute
from migrator_api.conf import conductor
from migrator_api.conf import default
from migrator_api.conf import nbd
from migrator_api.conf import upgrade_levels
from migrator_api.conf import volume

CONF = cfg.CONF

_MODULES = (default, api, conductor, volume, compute, upgrade_levels, nbd)


def register_opts(conf):
    for module in _MODULES:
        module.register_opts(conf)


register_opts(CONF)
