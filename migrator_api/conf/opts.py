"""Everything oslo-config-generator shows, one entry per group."""

import itertools

from oslo_db import options as db_options

from migrator_api.conf import api
from migrator_api.conf import backend
from migrator_api.conf import compute
from migrator_api.conf import conductor
from migrator_api.conf import default
from migrator_api.conf import nbd
from migrator_api.conf import upgrade_levels
from migrator_api.conf import volume

_MODULES = (default, api, conductor, volume, backend, compute,
            upgrade_levels, nbd)


def list_opts():
    groups = {}
    for module in _MODULES:
        for group, opts in module.list_opts().items():
            groups.setdefault(group, []).extend(opts)
    return [(group, list(itertools.chain(opts)))
            for group, opts in sorted(groups.items())]


def set_defaults(conf=None):
    """Defaults of library options that migrator changes."""
    from oslo_config import cfg
    conf = conf or cfg.CONF
    db_options.set_defaults(
        conf, connection='sqlite:///$state_path/migrator.sqlite')
