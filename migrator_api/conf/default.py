import socket

from oslo_config import cfg

opts = [
    cfg.StrOpt('host', default=socket.gethostname(),
               sample_default='<hostname>',
               help='Name of this node: the RPC server name of the volume '
                    'worker and the compute agent running here.  Must be '
                    'unique among the services of one deployment.'),
    cfg.StrOpt('state_path', default='/var/lib/migrator',
               help='Top-level directory for the state migrator keeps on '
                    'this host (the embedded database, file backends, '
                    'the compute agent\'s journal).'),
]


def register_opts(conf):
    conf.register_opts(opts)


def list_opts():
    return {'DEFAULT': opts}
