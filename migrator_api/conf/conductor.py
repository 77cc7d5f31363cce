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
    cfg.IntOpt('max_concurrent_copies_per_worker', default=4, min=0,
               help='Migrations that may run at once through one volume '
                    'worker (host): a migration counts against the worker '
                    'of its source backend and the worker of its '
                    'destination backend (once when they are the same '
                    'host), from the moment it leaves ``queued`` until it '
                    'ends.  Migrations beyond the limit wait in status '
                    '``queued`` and start in the order they were '
                    'accepted.  0 means unlimited.  Every conductor must '
                    'have the same value.'),
    cfg.IntOpt('max_concurrent_copies_per_backend', default=2, min=0,
               help='Migrations that may run at once from or to one '
                    'backend: a migration counts against its source and '
                    'its destination backend (an evacuation of one array '
                    'is throttled on that array, whatever the '
                    'destinations).  One copy already keeps [volume] '
                    'volume_copy_in_flight requests in flight; more '
                    'copies on one array share its bandwidth and each '
                    'takes longer.  0 means unlimited.  Every conductor '
                    'must have the same value.'),
    cfg.IntOpt('max_concurrent_live_migrations', default=1, min=0,
               help='Migrations of attached volumes that may run at once '
                    'on one compute host (as Nova\'s option of that '
                    'name): while one runs, the guest\'s writes go to a '
                    'local overlay on the compute host\'s disk, folded '
                    'into the destination at the end.  0 means '
                    'unlimited.  Every conductor must have the same '
                    'value.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
