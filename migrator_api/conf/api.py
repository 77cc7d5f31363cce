from oslo_config import cfg

GROUP = 'api'

opts = [
    cfg.HostAddressOpt('host_ip', default='127.0.0.1',
                       help='Address the API listens on.'),
    cfg.PortOpt('port', default=8780, help='Port the API listens on.'),
    cfg.StrOpt('auth_strategy', default='keystone',
               choices=[('keystone', 'validate keystone tokens with '
                         'keystonemiddleware'),
                        ('noauth', 'no authentication: every request is '
                         'an admin request (embedded default and tests '
                         'only)')],
               help='How API requests are authenticated.'),
    cfg.IntOpt('max_limit', default=1000, min=1,
               help='The most items a list request returns.'),
    cfg.IntOpt('workers', default=16, min=1,
               help='Threads serving API requests in migrator-api and '
                    'migrator-all.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
