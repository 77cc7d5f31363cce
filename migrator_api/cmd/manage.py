"""migrator-manage: administrative commands (``db sync``, ``db version``)."""

import sys

from oslo_config import cfg

from migrator_api.common import config
from migrator_api.db import api as db_api
from migrator_api.db import migration


def _db_sync(conf):
    migration.upgrade(conf.command.revision)
    print('Database is at revision %s' % migration.current_revision())


def _db_version(conf):
    print(migration.current_revision() or 'none')


def _add_db_parsers(subparsers):
    db = subparsers.add_parser('db', help='database schema')
    db_sub = db.add_subparsers(dest='db_action')
    sync = db_sub.add_parser('sync', help='upgrade the schema')
    sync.add_argument('revision', nargs='?', default='head')
    sync.set_defaults(func=_db_sync)
    version = db_sub.add_parser('version', help='show the schema revision')
    version.set_defaults(func=_db_version)


command_opt = cfg.SubCommandOpt('command', title='Commands',
                                handler=_add_db_parsers,
                                help='Available commands')


def main(argv=None):
    conf = config.CONF
    conf.register_cli_opt(command_opt)
    conf = config.parse_args(sys.argv[1:] if argv is None else argv)
    func = getattr(conf.command, 'func', None)
    if func is None:
        print('usage: migrator-manage db {sync,version}', file=sys.stderr)
        return 2
    db_api.configure(conf)
    func(conf)
    return 0
