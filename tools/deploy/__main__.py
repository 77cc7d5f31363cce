"""tools/deploy.sh up|status|down: see tools/deploy/__init__.py and
doc/source/install/deploy.rst."""

import argparse
import os
import sys
import time

from keystoneauth1 import exceptions as ks_exc

from deploy import layout as lay
from deploy import report
from deploy import steps
from deploy import teardown

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def up(layout, extra_conf=None, database='mariadb'):
    started = time.monotonic()
    record = layout.load()
    pw = layout.secrets(record)
    layout.save(record)
    steps.network(layout, record)
    steps.credentials(layout)
    urls = steps.shared_services(layout, record, pw, database)
    steps.identity(layout, record, pw)
    loops = steps.loop_devices(layout, record)
    extra = None
    if extra_conf:
        with open(extra_conf) as f:
            extra = f.read()
    changed = steps.write_configs(layout, urls, pw, loops, extra)
    steps.db_sync(layout)
    steps.start_services(layout, record, changed)
    seen = report.wait_up(layout, record, pw)
    report.summary(layout, pw, seen, time.monotonic() - started)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='tools/deploy.sh',
        description='A local multi-host deployment of migrator: hosts as '
                    'network namespaces, every service with its own '
                    'config file, RabbitMQ, MariaDB or PostgreSQL and '
                    'keystone.')
    parser.add_argument('command', choices=['up', 'status', 'down'])
    parser.add_argument('--state', default=os.environ.get(
        'MIGRATOR_DEPLOY_STATE', os.path.join(REPO, 'state', 'deploy')),
        help='where the deployment keeps its files (default: '
             'state/deploy)')
    parser.add_argument('--prefix', default=os.environ.get(
        'MIGRATOR_DEPLOY_PREFIX', 'mgd'),
        help='names of the bridge (PREFIX-br) and namespaces (PREFIX-HOST)')
    parser.add_argument('--subnet', default=os.environ.get(
        'MIGRATOR_DEPLOY_SUBNET', '10.77.0'),
        help='first three octets of the hosts\' addresses (the bridge is '
             '.1, the hosts .2 on)')
    parser.add_argument('--keep-services', action='store_true',
                        help='down: leave RabbitMQ and the database running '
                             'even when up started them')
    parser.add_argument('--extra-conf', metavar='FILE',
                        help='up: options for every host, read after its '
                             'own config file (its migrator.conf.d); a '
                             'later up without it removes them')
    parser.add_argument('--database', choices=steps.DATABASES,
                        default='mariadb',
                        help='up: the database server (default: mariadb)')
    args = parser.parse_args(argv)
    layout = lay.Layout(args.state, args.prefix, args.subnet)
    try:
        if args.command == 'up':
            return up(layout, args.extra_conf, args.database)
        if args.command == 'status':
            return report.status(layout)
        return teardown.down(layout, keep_services=args.keep_services)
    except (steps.DeployError, OSError, RuntimeError,
            ks_exc.ClientException) as exc:
        print('!! %s failed: %s' % (args.command, exc), file=sys.stderr)
        if args.command == 'up':
            print('   (tools/deploy.sh status shows what runs; '
                  'tools/deploy.sh down removes it)', file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
