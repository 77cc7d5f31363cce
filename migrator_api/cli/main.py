"""The ``migrator`` command line.

Credentials and endpoint: migrator_api.cli.auth (clouds.yaml, OS_*).
Exit status: 0 on success, 1 when the API or keystone refused the
request or the awaited migration did not succeed, 2 on a usage or
configuration error.
"""

import argparse
import logging
import os
import sys
import time

from migrator_api.cli import auth
from migrator_api.cli import client as api_client
from migrator_api.cli import output

ACCEPTED = ('Your migration request has been received. Please check '
            'migration status and the server log to see more information.')
REJECTED = 'Your migration request failed to process: %s'

VOLUME_COLUMNS = ['id', 'name', 'size', 'status', 'backend',
                  'migration_status']
MIGRATION_COLUMNS = ['id', 'volume_id', 'source_backend', 'dest_backend',
                     'status', 'phase', 'percentage']
BACKEND_COLUMNS = ['name', 'backend_type', 'host', 'state',
                   'free_capacity_bytes', 'total_capacity_bytes']
ATTACHMENT_COLUMNS = ['id', 'volume_id', 'instance_uuid', 'host', 'status',
                      'device']
FINISHED = ('success', 'error', 'cancelled')


def _unwrap(body, key):
    return body.get(key, body) if isinstance(body, dict) else body


def _queued_ahead(api, mig):
    """How many queued migrations were accepted before ``mig`` (the
    queue is listed in acceptance order); None when it is not queued
    or lies beyond the first page."""
    if mig.get('status') != 'queued':
        return None
    queued = _unwrap(api.get('/v1/migrations', {'status': 'queued'}),
                     'migrations')
    ids = [m['id'] for m in queued]
    return ids.index(mig['id']) if mig['id'] in ids else None


def _wait(api, migration_id, interval, stream):
    """Show a live progress bar until the migration ends (while it is
    queued: how many queued migrations are ahead of it)."""
    tty = stream.isatty()
    last = None
    while True:
        mig = _unwrap(api.get('/v1/migrations/%s' % migration_id),
                      'migration')
        line = output.progress_line(mig, ahead=_queued_ahead(api, mig))
        if tty:
            stream.write('\r' + line.ljust(len(last or '')))
        elif line != last:
            stream.write(line + '\n')
        stream.flush()
        last = line
        if mig['status'] in FINISHED:
            if tty:
                stream.write('\n')
            if mig['status'] == 'success':
                print('Migration %s succeeded: volume %s now lives on '
                      'backend %s.' % (mig['id'], mig['volume_id'],
                                       mig['dest_backend']), file=stream)
                return 0
            print('Migration %s ended %s%s' % (
                mig['id'], mig['status'],
                ': %s' % mig['error'] if mig.get('error') else '.'),
                file=stream)
            return 1
        time.sleep(interval)


def cmd_migrate(api, args):
    body = {'migration': {'volume_id': args.volume, 'backend': args.backend,
                          'force': args.force}}
    try:
        mig = _unwrap(api.post('/v1/migrations', body), 'migration')
    except api_client.ApiError as exc:
        print(REJECTED % exc.detail, file=sys.stderr)
        return 1
    print(ACCEPTED)
    print('Migration ID: %s' % mig['id'])
    if args.wait:
        return _wait(api, mig['id'], args.poll_interval, sys.stdout)
    return 0


def cmd_migration_list(api, args):
    params = {k: v for k, v in (('status', args.status),
                                ('volume_id', args.volume)) if v}
    rows = _unwrap(api.get('/v1/migrations', params), 'migrations')
    output.table(rows, MIGRATION_COLUMNS, args.format)
    return 0


def cmd_migration_show(api, args):
    output.record(_unwrap(api.get('/v1/migrations/%s' % args.id),
                          'migration'), args.format)
    return 0


def cmd_migration_cancel(api, args):
    api.post('/v1/migrations/%s/cancel' % args.id)
    print('Cancel of migration %s requested.' % args.id)
    if args.wait:
        return _wait(api, args.id, args.poll_interval, sys.stdout)
    return 0


def cmd_volume_create(api, args):
    body = {'volume': {'size': args.size, 'backend': args.backend}}
    if args.name:
        body['volume']['name'] = args.name
    vol = _unwrap(api.post('/v1/volumes', body), 'volume')
    if args.wait:
        while vol['status'] == 'creating':
            time.sleep(0.5)
            vol = _unwrap(api.get('/v1/volumes/%s' % vol['id']), 'volume')
    output.record(vol, args.format)
    return 0 if vol['status'] != 'error' else 1


def cmd_volume_list(api, args):
    params = {k: v for k, v in (('status', args.status),
                                ('migration_status', args.migration_status),
                                ('backend', args.backend)) if v}
    rows = _unwrap(api.get('/v1/volumes', params), 'volumes')
    output.table(rows, VOLUME_COLUMNS, args.format)
    return 0


def cmd_volume_show(api, args):
    output.record(_unwrap(api.get('/v1/volumes/%s' % args.id), 'volume'),
                  args.format)
    return 0


def cmd_volume_delete(api, args):
    api.delete('/v1/volumes/%s' % args.id)
    print('Delete of volume %s requested.' % args.id)
    return 0


def cmd_attachment_create(api, args):
    body = {'attachment': {'volume_id': args.volume,
                           'instance_uuid': args.instance,
                           'host': args.host}}
    att = _unwrap(api.post('/v1/attachments', body), 'attachment')
    if args.wait:
        while att['status'] == 'attaching':
            time.sleep(0.5)
            att = _unwrap(api.get('/v1/attachments/%s' % att['id']),
                          'attachment')
    output.record(att, args.format)
    return 0 if att['status'] == 'attached' or not args.wait else 1


def cmd_attachment_list(api, args):
    params = {k: v for k, v in (('volume_id', args.volume),
                                ('instance_uuid', args.instance)) if v}
    rows = _unwrap(api.get('/v1/attachments', params), 'attachments')
    output.table(rows, ATTACHMENT_COLUMNS, args.format)
    return 0


def cmd_attachment_delete(api, args):
    api.delete('/v1/attachments/%s' % args.id)
    print('Detach of attachment %s requested.' % args.id)
    return 0


def cmd_backend_list(api, args):
    rows = _unwrap(api.get('/v1/backends'), 'backends')
    output.table(rows, BACKEND_COLUMNS, args.format)
    return 0


def cmd_service_list(api, args):
    rows = _unwrap(api.get('/v1/services'), 'services')
    output.table(rows, ['host', 'binary', 'state', 'last_seen_at'],
                 args.format)
    return 0


def _size(text):
    try:
        return output.parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc))


def build_parser(argv):
    """The parser, and the cloud configuration it reads (clouds.yaml,
    OS_*)."""
    # 'resolve': with --os-auth-type none, keystoneauth's own
    # --os-endpoint takes the place of this one (same destination).
    parser = argparse.ArgumentParser(
        prog='migrator', description='Migrate volumes between backends.',
        conflict_handler='resolve')
    parser.add_argument('--os-endpoint',
                        default=os.environ.get('MIGRATOR_ENDPOINT'),
                        help='API endpoint (default: from the keystone '
                             'catalog, or %s without keystone; env '
                             'MIGRATOR_ENDPOINT)'
                             % api_client.DEFAULT_ENDPOINT)
    parser.add_argument('-f', '--format', choices=['table', 'json'],
                        default='table')
    config = auth.register_arguments(parser, argv)
    sub = parser.add_subparsers(dest='command', metavar='COMMAND')
    sub.required = True
    for add in (_add_migrate, _add_migration, _add_volume, _add_attachment,
                _add_listings):
        add(sub)
    return parser, config


def _actions(sub, name, help_text):
    actions = sub.add_parser(name, help=help_text).add_subparsers(
        dest='action', metavar='ACTION')
    actions.required = True
    return actions


def _add_migrate(sub):
    p = sub.add_parser('migrate', help='migrate a volume to a backend')
    p.add_argument('volume', help='volume ID')
    p.add_argument('backend', help='destination backend name or ID')
    p.add_argument('--force', action='store_true',
                   help='hold the volume in maintenance for the duration '
                        '(attach and detach are refused)')
    p.add_argument('--wait', action='store_true',
                   help='show a live progress bar until the migration ends')
    p.add_argument('--poll-interval', type=float, default=1.0)
    p.set_defaults(func=cmd_migrate)


def _add_migration(sub):
    mig = _actions(sub, 'migration', 'migrations')
    p = mig.add_parser('list', help='migrations, oldest first (queued '
                                    'ones start in this order)')
    p.add_argument('--status', help='queued, starting, migrating, '
                                    'completing, cancelling, success, '
                                    'error or cancelled')
    p.add_argument('--volume')
    p.set_defaults(func=cmd_migration_list)
    p = mig.add_parser('show')
    p.add_argument('id')
    p.set_defaults(func=cmd_migration_show)
    p = mig.add_parser('cancel')
    p.add_argument('id')
    p.add_argument('--wait', action='store_true')
    p.add_argument('--poll-interval', type=float, default=1.0)
    p.set_defaults(func=cmd_migration_cancel)


def _add_volume(sub):
    vol = _actions(sub, 'volume', 'volumes')
    p = vol.add_parser('create')
    p.add_argument('--size', type=_size, required=True,
                   help='bytes, or with a unit: 512K, 300M, 1G')
    p.add_argument('--backend', required=True)
    p.add_argument('--name')
    p.add_argument('--wait', action='store_true',
                   help='wait until the volume is available')
    p.set_defaults(func=cmd_volume_create)
    p = vol.add_parser('list')
    p.add_argument('--status')
    p.add_argument('--migration-status')
    p.add_argument('--backend')
    p.set_defaults(func=cmd_volume_list)
    p = vol.add_parser('show')
    p.add_argument('id')
    p.set_defaults(func=cmd_volume_show)
    p = vol.add_parser('delete')
    p.add_argument('id')
    p.set_defaults(func=cmd_volume_delete)


def _add_attachment(sub):
    att = _actions(sub, 'attachment', 'attachments')
    p = att.add_parser('create', help='attach a volume to an instance')
    p.add_argument('volume', help='volume ID')
    p.add_argument('instance', help='instance (libvirt domain) UUID')
    p.add_argument('host', help='compute host of the instance')
    p.add_argument('--wait', action='store_true',
                   help='wait until the volume is attached')
    p.set_defaults(func=cmd_attachment_create)
    p = att.add_parser('list')
    p.add_argument('--volume')
    p.add_argument('--instance')
    p.set_defaults(func=cmd_attachment_list)
    p = att.add_parser('delete', help='detach')
    p.add_argument('id')
    p.set_defaults(func=cmd_attachment_delete)


def _add_listings(sub):
    _actions(sub, 'backend', 'backends').add_parser('list').set_defaults(
        func=cmd_backend_list)
    _actions(sub, 'service', 'services').add_parser('list').set_defaults(
        func=cmd_service_list)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    # keystoneauth warns on stderr about what the error says again.
    logging.getLogger('keystoneauth').setLevel(logging.ERROR)
    try:
        parser, config = build_parser(argv)
        args = parser.parse_args(argv)
        api = auth.make_client(config, args)
    except auth.ConfigError as exc:
        print('Error: %s' % exc, file=sys.stderr)
        return 2
    try:
        return args.func(api, args)
    except api_client.ApiError as exc:
        print('Error: %s' % exc.detail, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == '__main__':
    sys.exit(main())
