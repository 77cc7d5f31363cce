"""``[nbd]``: the data path between hosts.

A volume worker with ``enabled = true`` serves its volumes to other
hosts over NBD (one qemu-storage-daemon per export, TLS with x509
certificates, only the hosts an export names may connect) and reads
the volumes other hosts export to it.  It says so in the capabilities
of its backends (``nbd``), which is what admission looks at before it
accepts a migration between hosts.
"""

from oslo_config import cfg

GROUP = 'nbd'

opts = [
    cfg.BoolOpt('enabled', default=False,
                help='Serve this host\'s volumes to other hosts over NBD '
                     'and read theirs (a migration between backends of '
                     'different hosts, a volume attached to an instance '
                     'of another host).  Needs listen_address and '
                     'tls_dir.'),
    cfg.HostAddressOpt('listen_address',
                       help='This host\'s address for NBD exports: the '
                            'exports listen on it and the other hosts '
                            'connect to it.'),
    cfg.PortOpt('min_port', default=10809,
                help='First TCP port of the range the exports of this '
                     'host listen on (one port per export).'),
    cfg.PortOpt('max_port', default=10999,
                help='Last TCP port of the range the exports of this '
                     'host listen on.'),
    cfg.StrOpt('tls_dir',
               help='This host\'s x509 credentials (a volume worker\'s '
                    'exports and its reads of other hosts\' exports; a '
                    'compute agent\'s connections to them), in the layout '
                    'QEMU\'s tls-creds-x509 and libnbd read: ca-cert.pem, '
                    'server-cert.pem, server-key.pem (exports), '
                    'client-cert.pem, client-key.pem.  The certificate\'s '
                    'subject must be O=migrator,CN=<[DEFAULT] host>: the '
                    'identity the exports of other hosts allow.'),
    cfg.StrOpt('qemu_storage_daemon', default='qemu-storage-daemon',
               help='The qemu-storage-daemon command serving the '
                    'exports.'),
    cfg.IntOpt('start_timeout', default=30, min=1,
               help='Seconds an export\'s daemon may take to listen.'),
    cfg.IntOpt('reclaim_timeout', default=120, min=0,
               help='Seconds a volume worker that starts keeps the '
                    'exports a previous run left behind, waiting for '
                    'the conductor to ask for them again; an export '
                    'nobody asked for by then and that no client is '
                    'connected to is closed.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
