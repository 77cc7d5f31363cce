from oslo_config import cfg

GROUP = 'conductor'

opts = [
    cfg.IntOpt('service_down_time', default=60, min=1,
               help='Seconds without a heartbeat after which a volume '
                    'worker or compute agent is reported down.'),
    cfg.IntOpt('copy_report_timeout', default=120, min=5,
               help='Seconds a running copy may go without reporting '
                    'progress before the conductor asks the worker about '
                    'it and, if the worker no longer knows it, fails the '
                    'migration.'),
    cfg.IntOpt('rpc_call_timeout', default=60, min=1,
               help='Seconds to wait for the answer to a synchronous RPC '
                    'call to an agent.'),
    cfg.IntOpt('abort_timeout', default=60, min=1,
               help='Seconds an attach or detach request waits for the '
                    'migration it aborts (a migration started without '
                    'force) to roll back before it answers 409.'),
    cfg.BoolOpt('enabled', default=True,
                help='Run the conductor (the migration orchestration and '
                     'the RPC endpoint the agents report to) inside '
                     'migrator-all.  Deployed, the conductor is a process '
                     'of its own (migrator-conductor) and migrator-api '
                     'serves the REST API only.'),
    cfg.IntOpt('claim_timeout', default=60, min=2,
               help='Seconds after which another conductor takes over the '
                    'migrations of a conductor that stopped renewing its '
                    'claims.  A conductor claims a migration (a '
                    'compare-and-swap in the database) before it drives '
                    'it, renews its claims at each heartbeat (every '
                    '[volume] report_interval seconds) and releases them '
                    'when the migration waits for a report or ends; keep '
                    'this several heartbeats long.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
