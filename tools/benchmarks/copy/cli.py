"""The copy benchmark's command line: options, the run, the JSON."""

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import textwrap
import time

from benchmarks import common
from benchmarks.copy import bench as bench_mod
from benchmarks.copy import log
from benchmarks.copy import report
from benchmarks.copy import worker

MiB, GiB = common.MiB, common.GiB
TOOLS_NEEDED = ('dd', 'qemu-img', 'cp', 'losetup', 'openssl',
                'qemu-storage-daemon', 'ip')


def parse_args(argv, doc):
    p = argparse.ArgumentParser(
        description=doc.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent(doc.split('\n\n', 1)[1]))
    size = common.parse_size
    p.add_argument('--dir', help='work directory, on the disk to measure '
                   '(default: a new directory under /var/tmp)')
    p.add_argument('--runs', type=int, default=3,
                   help='rounds of every copy (medians; default 3)')
    p.add_argument('--dense-size', type=size, default=2 * GiB)
    p.add_argument('--sparse-size', type=size, default=8 * GiB)
    p.add_argument('--sparse-fraction', type=float, default=0.10)
    p.add_argument('--block-size', type=size, default=2 * GiB)
    p.add_argument('--volumes', default='dense,sparse,block',
                   help='comma-separated subset of dense,sparse,block,'
                        'crosshost (crosshost: the copy of the dense and '
                        'sparse sources from another host over NBD with '
                        'TLS against the same copy on one host)')
    p.add_argument('--throttle-limit', type=size, default=50 * 10 ** 6,
                   help='volume_copy_bps_limit of the throttle runs, bytes '
                        'per second (0: skip them; default 50 MB/s)')
    p.add_argument('--throttle-seconds', type=float, default=4.0,
                   help='length of each throttled copy at the limit')
    p.add_argument('--throttle-runs', type=int, default=2)
    p.add_argument('--worker-opt', action='append', default=[],
                   metavar='NAME=VALUE',
                   help='a [volume] option of the worker, e.g. '
                        'volume_copy_in_flight=8 (repeatable)')
    p.add_argument('--no-drop-caches', dest='drop_caches',
                   action='store_false',
                   help='do not drop the page caches before each copy')
    p.add_argument('--keep', action='store_true',
                   help='keep the work directory')
    p.add_argument('--json', help='write the figures to this file')
    args = p.parse_args(argv)
    args.volumes = set(v.strip() for v in args.volumes.split(',') if v)
    args.worker_opts = dict(o.split('=', 1) for o in args.worker_opt)
    if args.dense_size % MiB or args.block_size % (4 * MiB) \
            or args.sparse_size % MiB:
        p.error('sizes must be whole MiB (the block size a multiple of '
                '4 MiB)')
    return args


def _cannot_run():
    """Why the benchmark cannot run here, or None."""
    if os.geteuid() != 0:
        return 'bench_copy needs root (loop devices, drop_caches)'
    for tool in TOOLS_NEEDED:
        if shutil.which(tool) is None:
            return 'bench_copy needs %s' % tool
    return None


def _run(bench):
    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    try:
        bench.prepare()
        bench.run()
    except common.BenchError as e:
        log('ERROR: %s', e)
        return 2
    finally:
        bench.cleanup()
    return 0


def _write_json(args, bench, status, summary, checks, started):
    doc = {
        'benchmark': 'bench_copy', 'status': status,
        'date': datetime.datetime.now(datetime.timezone.utc).isoformat(),
        'host': {'kernel': platform.release(), 'cpus': os.cpu_count(),
                 'python': platform.python_version()},
        'settings': {k: (sorted(v) if isinstance(v, set) else v)
                     for k, v in vars(args).items()},
        'sparse_extents': len(bench.volumes.sparse_layout),
        'summary': summary,
        'targets': checks.as_json('name', 'passed'),
        'runs': bench.results['runs'],
        'throttle': bench.results['throttle'],
        'seconds': time.monotonic() - started,
    }
    with open(args.json, 'w') as f:
        json.dump(doc, f, indent=1, sort_keys=True)
    log('Figures written to %s', args.json)


def main(argv=None, doc=''):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ['--worker']:
        return worker.worker_main(json.loads(argv[1]))
    args = parse_args(argv, doc)
    problem = _cannot_run()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    if args.dir is None:
        args.dir = tempfile.mkdtemp(prefix='migrator-bench-copy-',
                                    dir='/var/tmp')
    else:
        args.dir = os.path.join(os.path.abspath(args.dir),
                                'bench-copy-%d' % os.getpid())
    bench = bench_mod.Bench(args)
    started = time.monotonic()
    status = _run(bench)
    results = bench.results
    summary = report.summarize(results) if results['runs'] or \
        results['throttle'] else {}
    checks = report.targets(summary) if summary else common.Targets()
    if summary:
        report.print_summary(summary, checks)
    if status == 0 and not checks.all_met():
        status = 1
    log('Done in %.0f s', time.monotonic() - started)
    if args.json:
        _write_json(args, bench, status, summary, checks, started)
    return status
