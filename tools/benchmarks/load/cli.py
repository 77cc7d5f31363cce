"""tools/bench_load.py: options, the run, the report and its targets."""

import argparse
import json
import shutil
import tempfile
import textwrap

from benchmarks import common
from benchmarks.load import run
from benchmarks.load import targets

MiB = common.MiB
#: Targets of the issue: the status endpoint's p99 under load, and no
#: migration failed or unverified.
P99_TARGET = 0.050


def parse_args(argv, doc):
    p = argparse.ArgumentParser(
        description=doc.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent(doc.split('\n\n', 1)[1]))
    p.add_argument('--target', choices=sorted(targets.TARGETS),
                   default='embedded')
    p.add_argument('--volumes', type=int, default=200)
    p.add_argument('--migrations', type=int, default=50,
                   help='migrations started at once')
    p.add_argument('--clients', type=int, default=20,
                   help='clients polling the status endpoint')
    p.add_argument('--size', type=common.parse_mib_size, default=64 * MiB,
                   help='size of each volume (default 64M)')
    p.add_argument('--baseline', type=int, default=3,
                   help='migrations timed one at a time first (default 3)')
    p.add_argument('--opt', action='append', default=[],
                   metavar='GROUP.NAME=VALUE',
                   help='an option of every service (repeatable), e.g. '
                        'volume.volume_copy_bps_limit=0')
    p.add_argument('--dir', help='work directory (default: a new one '
                                 'under /var/tmp)')
    p.add_argument('--keep', action='store_true')
    p.add_argument('--json', help='write the figures to this file')
    args = p.parse_args(argv)
    if args.migrations + args.baseline > args.volumes:
        p.error('--volumes must be at least --migrations + --baseline')
    return args


def main(argv, doc):
    args = parse_args(argv, doc)
    directory = args.dir or tempfile.mkdtemp(prefix='bench-load-',
                                             dir='/var/tmp')
    common.check_free(directory, args.volumes * args.size * 1.2)
    target = targets.TARGETS[args.target](directory, args.opt)
    try:
        target.start()
        figures = scenario(target, args)
    finally:
        target.stop()
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)
    checks = report(figures, args)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(figures, targets=checks.as_json('target', 'met')),
                      f, indent=2, default=str)
    return 0 if checks.all_met() else 1


def scenario(target, args):
    api = run.Api(target.endpoint, target.headers)
    sources = [s for s, _d in target.pairs]
    common.log('%s: %d volumes of %s on %s', target.name, args.volumes,
               common.short_size(args.size), ', '.join(sources))
    volumes = run.make_volumes(api, args.volumes, args.size, sources)
    common.log('baseline: %d migrations one at a time', args.baseline)
    single = run.baseline(api, volumes, target.pairs, args.baseline)
    common.log('load: %d migrations at once, %d clients polling',
               args.migrations, args.clients)
    ended, wall, pollers, watch, chosen = run.load(
        api, volumes, target.pairs, args.migrations, args.clients)
    common.log('verifying %d volumes byte for byte', len(chosen))
    bad = run.verify(api, chosen, args.size)
    failed = [m for m in ended.values() if m['status'] != 'success']
    return {
        'target': target.name, 'size': args.size,
        'migrations': args.migrations, 'clients': args.clients,
        'single_seconds': single, 'wall_seconds': wall,
        'latency': common.summary(pollers.latencies),
        'poll_errors': pollers.errors[:10],
        'poll_error_count': len(pollers.errors),
        'most_copies': watch.most, 'most_copies_by_backend': watch.by_backend,
        'most_queued': watch.queued_seen,
        'failed': [(m['id'], m['status'], m['error']) for m in failed],
        'unverified': bad,
    }


def report(f, args):
    lat = f['latency']
    single = common.median(f['single_seconds'])
    serial = single * f['migrations']
    print('\nLoad on the %s target: %d migrations of %s at once, %d clients '
          'polling' % (f['target'], f['migrations'],
                       common.short_size(f['size']), f['clients']))
    print('  status endpoint: %d requests, p50 %.1f ms, p99 %.1f ms, max '
          '%.1f ms, %d errors' % (lat['n'], lat['median'] * 1e3,
                                  lat['p99'] * 1e3, lat['max'] * 1e3,
                                  f['poll_error_count']))
    print('  copies running at once: at most %d (per backend: %s); at most '
          '%d queued' % (f['most_copies'], ', '.join(
              '%s %d' % kv for kv in sorted(
                  f['most_copies_by_backend'].items())) or '-',
              f['most_queued']))
    print('  total %.1f s against %d x %.2f s = %.1f s one after another '
          '(ratio %.2f)' % (f['wall_seconds'], f['migrations'], single,
                            serial, f['wall_seconds'] / serial))
    checks = common.Targets()
    checks.add('status endpoint p99 < %d ms' % (P99_TARGET * 1e3),
               lat['p99'] < P99_TARGET and not f['poll_error_count'],
               '%.1f ms (%d errors)' % (lat['p99'] * 1e3,
                                        f['poll_error_count']))
    checks.add('no failed migration', not f['failed'],
               '%d failed%s' % (len(f['failed']), ': %s' % f['failed'][:3]
                                if f['failed'] else ''))
    checks.add('every migrated volume verified', not f['unverified'],
               '%d of %d differ or did not move' % (
                   len(f['unverified']), f['migrations']))
    print('\nTargets')
    for line in checks.lines('  %s %s: %s'):
        print(line)
    return checks
