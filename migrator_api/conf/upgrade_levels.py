"""``[upgrade_levels]``: the RPC version each client may send, for
rolling upgrades (upgrade the conductors last, pinned to what the
oldest agent speaks; unpin once every service runs the new release)."""

from oslo_config import cfg

GROUP = 'upgrade_levels'

_VERSION = r'^(\d+\.\d+)?$'


def _opt(name, what):
    return cfg.StrOpt(
        name, regex=_VERSION,
        help='Highest version of the %s RPC API that this service sends '
             '(e.g. 1.0); calls newer than that are not made, or made in '
             'the older form.  Unset: the newest this release knows.'
             % what)


opts = [
    _opt('conductor', 'conductor (the API and the agents calling the '
                      'conductor)'),
    _opt('volume', 'volume worker (the conductor calling the volume '
                   'workers)'),
    _opt('compute', 'compute agent (the API and the conductor calling the '
                    'compute agents)'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
