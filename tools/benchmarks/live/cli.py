"""The live benchmark's command line: options, the run, the JSON."""

import argparse
import collections
import datetime
import json
import logging
import re
import signal
import sys
import threading
import time

from benchmarks import common
from benchmarks.live import chain as chain_mod
from benchmarks.live import phases
from benchmarks.live import prepare
from benchmarks.live import report
from benchmarks.live import session as session_mod


def build_parser():
    parser = argparse.ArgumentParser(
        description='Benchmark of the live migration path against a QEMU '
                    'mirror (Nova swap_volume).  Needs root, libvirtd, '
                    'QEMU.')
    add = parser.add_argument
    add('--sizes', default='1G,4G',
        type=lambda s: [common.parse_mib_size(x) for x in s.split(',')],
        help='volume sizes of the end-to-end comparison (default 1G,4G)')
    add('--repeat', type=int, default=3,
        help='repetitions of each approach per size (default 3)')
    add('--migrations', type=int, default=20,
        help='migrations under continuous guest writes for the '
             'freeze/pivot and fold-in figures (default 20)')
    add('--small-size', type=common.parse_mib_size, default='256M',
        help='volume size of those migrations (256M)')
    add('--writer-max', type=common.parse_mib_size, default='1M',
        help='largest write of the continuous guest writer (1M; writes '
             'are 4 KiB..this)')
    add('--latency-runs', type=int, default=2,
        help='migrations of each approach with the latency probe, on the '
             'first size (2; 0 skips)')
    add('--probe-interval', type=float, default=0.01,
        help='seconds between two probe writes (0.01)')
    add('--idle-seconds', type=float, default=5.0,
        help='length of the idle latency measurement (5)')
    add('--no-dd', dest='dd', action='store_false',
        help='skip the dd O_DIRECT reference copies')
    add('--fold-timeout', type=float, default=600.0,
        help='seconds a fold-in may take (600)')
    add('--workdir', default='/var/tmp',
        help='where the volumes go (a directory is made in it and removed '
             'at the end; /var/tmp)')
    add('--keep', action='store_true',
        help='keep the work directory (debugging)')
    add('--json', metavar='PATH', help='write every figure as JSON to PATH')
    add('--verbose', action='store_true', help='log the driver at INFO')
    return parser


def _count_thread_errors():
    """Exceptions in threads that are not ours (the copier's workers,
    say) are counted and reported instead of scrolling tracebacks."""
    thread_errors = collections.Counter()
    default_hook = threading.excepthook

    def excepthook(hook_args):
        name = hook_args.thread.name if hook_args.thread else '?'
        key = '%s in thread %s: %s' % (hook_args.exc_type.__name__,
                                       re.sub(r'-\d+$', '-N', name),
                                       hook_args.exc_value)
        if not thread_errors[key]:
            default_hook(hook_args)
        thread_errors[key] += 1
    threading.excepthook = excepthook
    return thread_errors


def _trap_signals():
    def interrupt(signum, frame):
        raise KeyboardInterrupt('signal %d' % signum)
    # SIGINT too: a shell starts background jobs with it ignored.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupt)


def _config(args, argv):
    return {'sizes': args.sizes, 'repeat': args.repeat,
            'migrations': args.migrations, 'small_size': args.small_size,
            'writer_max': args.writer_max,
            'latency_runs': args.latency_runs,
            'probe_interval': args.probe_interval,
            'idle_seconds': args.idle_seconds, 'dd': args.dd,
            'argv': sys.argv[1:] if argv is None else argv,
            'started': datetime.datetime.now().isoformat()}


def _run(s):
    """Every phase and the report; the exit status."""
    errors = s.results['errors']
    try:
        prepare.setup(s)
        if s.args.migrations:
            phases.phase_holds(s)
        phases.phase_e2e(s)
        return 0 if report.report(s.results, s.args) else 1
    except KeyboardInterrupt:
        common.log('Interrupted; cleaning up')
        errors.append('interrupted')
        return 130
    except chain_mod.DataMismatch as e:
        common.log('DATA MISMATCH: %s', e)
        errors.append('data mismatch: %s' % e)
    except common.BenchError as e:
        common.log('ERROR: %s', e)
        errors.append(str(e))
    except Exception as e:
        import traceback
        traceback.print_exc()
        errors.append('%s: %s' % (type(e).__name__, e))
    return 2


def _clean_up(s):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        prepare.cleanup(s)
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _write_results(s, status, t0, thread_errors):
    res = s.results
    res['elapsed_seconds'] = time.monotonic() - t0
    res['status'] = status
    for run in res['runs']:
        for key, n in run.get('copier', {}).get('thread_errors',
                                                {}).items():
            thread_errors['copier process: ' + key] += n
    res['thread_errors'] = dict(thread_errors)
    for key, n in thread_errors.items():
        common.log('warning: %d x %s', n, key)
    if s.args.json:
        with open(s.args.json, 'w') as f:
            json.dump(res, f, indent=1, sort_keys=True, default=str)
        common.log('Figures written to %s', s.args.json)
    common.log('Done in %.0f s, exit status %d', time.monotonic() - t0,
               status)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.migrations < 0:
        parser.error('--repeat must be >= 1 and --migrations >= 0')
    thread_errors = _count_thread_errors()
    logging.basicConfig(level=logging.INFO if args.verbose
                        else logging.WARNING,
                        format='%(asctime)s %(levelname)s %(name)s '
                               '%(message)s')
    _trap_signals()
    s = session_mod.Session(args)
    s.results['config'] = _config(args, argv)
    status = 2
    t0 = time.monotonic()
    try:
        status = _run(s)
    finally:
        _clean_up(s)
        _write_results(s, status, t0, thread_errors)
    return status
