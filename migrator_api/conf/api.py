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
               help='Requests the API handles at once in migrator-all and '
                    'the built-in server (a request whose body is still '
                    'arriving does not take one).'),
    cfg.IntOpt('max_request_body_size', default=64 * 1024, min=1024,
               help='Largest request body, in bytes: a larger '
                    'Content-Length is answered 413 before anything is '
                    'read.'),
    cfg.FloatOpt('request_body_timeout', default=10.0, min=0.1,
                 help='Seconds a client has to send the whole request '
                      'body; a slower one is answered 408.'),
    cfg.FloatOpt('client_socket_timeout', default=10.0, min=0.1,
                 help='Seconds the built-in server waits for each read '
                      'from a client (request line, headers) before it '
                      'closes the connection.'),
    cfg.IntOpt('max_connections', default=512, min=1,
               help='Client connections the built-in server holds open '
                    'at once; more are answered 503 at once.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
