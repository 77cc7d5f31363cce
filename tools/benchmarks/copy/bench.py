"""The copy benchmark's runs: every contender on every volume, round
after round, and the throttled copies; each destination verified."""

import os
import shutil
import statistics

from benchmarks import common
from benchmarks.copy import crosshost
from benchmarks.copy import log
from benchmarks.copy import peers
from benchmarks.copy import verify
from benchmarks.copy import volumes as volumes_mod
from benchmarks.copy import worker

MiB = common.MiB
SCENARIOS = [
    ('dense', ['migrator', 'migrator-nopoll'] + list(peers.PEERS)),
    ('sparse', ['migrator'] + list(peers.PEERS)),
    ('block', ['migrator', 'migrator-nopoll'] + list(peers.PEERS)),
    ('crosshost', [crosshost.LOCAL, crosshost.REMOTE]),
    ('crosshost-sparse', [crosshost.LOCAL, crosshost.REMOTE]),
]
#: The source volume of each scenario that copies another's.
SOURCE_OF = {'crosshost': 'dense', 'crosshost-sparse': 'sparse'}


def order(contenders, round_no):
    """Alternate: even rounds rotate the list by the round number,
    odd rounds run the previous round's order backwards (so that
    whoever ran first runs last)."""
    contenders = list(contenders)
    k = (round_no - round_no % 2) % len(contenders)
    turn = contenders[k:] + contenders[:k]
    return turn[::-1] if round_no % 2 else turn


def _migrator_result(report):
    """A copy's figures from the worker's report."""
    polls = report['polls']
    return {
        'seconds': report['seconds'],
        'cpu_seconds': report['cpu_seconds'],
        'peak_rss_bytes': report['peak_rss_bytes'],
        'rss_before_bytes': report['rss_before_bytes'],
        'children_peak_rss_bytes': report['children_peak_rss_bytes'],
        'peak_buffer_bytes': report['peak_buffer_bytes'],
        'copier': report['copier'], 'in_flight': report['in_flight'],
        'progress_reports': len(report['progress']),
        'polls': len(polls),
        'poll_seconds_mean': (statistics.mean(p[0] for p in polls)
                              if polls else None),
        'poll_cpu_seconds_mean': (statistics.mean(p[1] for p in polls)
                                  if polls else None),
    }


def _rate_windows(report):
    """Rates over windows of about a second, from the samples."""
    windows = []
    samples = [(report['started'], 0)] + report['samples']
    j = 0
    for i in range(1, len(samples)):
        while samples[i][0] - samples[j + 1][0] >= 1.0:
            j += 1
        t0, b0 = samples[j]
        t1, b1 = samples[i]
        if t1 - t0 >= 1.0:
            windows.append((b1 - b0) / (t1 - t0))
    return windows


class Bench:

    def __init__(self, args):
        self.args = args
        self.dir = args.dir
        self.volumes = volumes_mod.Volumes(args, args.dir)
        self.results = {'runs': [], 'throttle': []}
        self.drop = args.drop_caches
        self.crosshost = None

    def prepare(self):
        self.volumes.prepare()
        if 'crosshost' in self.args.volumes:
            self.crosshost = crosshost.CrossHost(self.dir)
            self.crosshost.prepare({'dense': self.volumes.dense,
                                    'sparse': self.volumes.sparse})

    def cleanup(self):
        if self.crosshost is not None:
            self.crosshost.cleanup()
        self.volumes.cleanup()

    def _source(self, volume):
        volume = SOURCE_OF.get(volume, volume)
        v, a = self.volumes, self.args
        return {'dense': (v.dense, a.dense_size),
                'sparse': (v.sparse, a.sparse_size),
                'block': (v.block_src, a.block_size)}[volume]

    def _copy(self, volume, contender, src, size):
        """One copy; (figures, destination, worker state directory)."""
        v = self.volumes
        if contender == crosshost.REMOTE:
            location = self.crosshost.locations[SOURCE_OF[volume]]
            report = worker.run_worker(self.dir, 'file', location, v.dst_dir,
                                       size, extra_opts=self.args.worker_opts,
                                       remote=self.crosshost)
            return (_migrator_result(report), report.pop('dst_path'),
                    report['state_dir'])
        if contender.startswith('migrator'):
            kind, dst = (('block', v.block_dst) if volume == 'block'
                         else ('file', v.dst_dir))
            report = worker.run_worker(
                self.dir, kind, src, dst, size,
                poll=contender == 'migrator',
                extra_opts=self.args.worker_opts)
            return (_migrator_result(report), report.pop('dst_path'),
                    report['state_dir'])
        if volume == 'block':
            dst = v.block_dst
        else:
            dst = os.path.join(v.dst_dir, '%s-%s.raw' % (contender, volume))
            common.fresh_file(dst, size)
        return peers.run_peer(contender, src, dst, size), dst, None

    def one_copy(self, volume, contender, round_no):
        src, size = self._source(volume)
        if volume == 'block':
            self.volumes.dirty_block_dst(round_no * 101 + len(contender))
        peers.drop_caches(self.drop)
        result, dst, state_dir = self._copy(volume, contender, src, size)
        result.update({'volume': volume, 'contender': contender,
                       'round': round_no, 'size': size,
                       'mb_per_s': common.mbps(size, result['seconds'])})
        if volume != 'block':
            result['dst_allocated_bytes'] = volumes_mod.allocated(dst)
        result['verified_bytes'] = self.volumes.refs[
            SOURCE_OF.get(volume, volume)].verify(dst)
        if volume != 'block':
            os.unlink(dst)
        if state_dir:
            shutil.rmtree(state_dir, ignore_errors=True)
        extra = ''
        if 'peak_rss_bytes' in result:
            extra = ', worker peak RSS %.1f MiB' % (
                result['peak_rss_bytes'] / MiB)
        if 'dst_allocated_bytes' in result:
            extra += ', destination allocates %s' % common.human_size(
                result['dst_allocated_bytes'])
        log('  %-6s %-16s %7.2f s %8.1f MB/s%s (verified)', volume,
            contender, result['seconds'], result['mb_per_s'], extra)
        self.results['runs'].append(result)
        return result

    def throttled(self, path, round_no):
        a, v = self.args, self.volumes
        limit = a.throttle_limit
        size = min(int(limit * a.throttle_seconds) // MiB * MiB,
                   a.dense_size, a.block_size)
        peers.drop_caches(self.drop)
        if path == 'dd':
            v.dirty_block_dst(round_no + 7)
            report = worker.run_worker(self.dir, 'block', v.block_src,
                                       v.block_dst, size, limit=limit,
                                       extra_opts=a.worker_opts)
            ref = v.refs['block']
        else:
            report = worker.run_worker(self.dir, 'file', v.dense, v.dst_dir,
                                       size, limit=limit,
                                       extra_opts=a.worker_opts)
            ref = v.refs['dense']
        dst = report['dst_path']
        verify.Reference(ref.path, size).verify(dst)
        if path != 'dd':
            os.unlink(dst)
        shutil.rmtree(report['state_dir'], ignore_errors=True)
        self._record_throttle(path, round_no, size, report)

    def _record_throttle(self, path, round_no, size, report):
        limit = self.args.throttle_limit
        rate = size / report['seconds']
        windows = _rate_windows(report)
        result = {
            'path': path, 'round': round_no, 'limit_bytes_per_s': limit,
            'size': size, 'seconds': report['seconds'],
            'rate_bytes_per_s': rate, 'ratio': rate / limit,
            'copier': report['copier'],
            'window_ratio_min': min(windows) / limit if windows else None,
            'window_ratio_max': max(windows) / limit if windows else None,
        }
        log('  throttle %-7s %s at %s/s: %.2f s, %.2f MB/s = %.3f of the '
            'limit (1 s windows %s to %s) (verified)', path,
            common.human_size(size), common.human_size(limit),
            report['seconds'], rate / 1e6, rate / limit,
            '%.3f' % result['window_ratio_min'] if windows else '-',
            '%.3f' % result['window_ratio_max'] if windows else '-')
        self.results['throttle'].append(result)

    def run(self):
        a = self.args
        scenarios = [(v, c) for v, c in SCENARIOS
                     if v.split('-')[0] in a.volumes]
        for round_no in range(a.runs):
            log('Round %d of %d', round_no + 1, a.runs)
            for volume, contenders in scenarios:
                for contender in order(contenders, round_no):
                    self.one_copy(volume, contender, round_no)
        if a.throttle_limit:
            log('Throttle: volume_copy_bps_limit = %d', a.throttle_limit)
            for round_no in range(a.throttle_runs):
                for path in order(['fileio', 'dd'], round_no):
                    self.throttled(path, round_no)
