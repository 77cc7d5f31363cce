"""The copy benchmark's figures: medians of each contender's rounds,
ratios, the worker's memory and polling, the throttle; targets; the
printed summary."""

import statistics

from benchmarks import common
from benchmarks.copy import crosshost
from benchmarks.copy import peers
from benchmarks.copy import worker

MiB = common.MiB
RSS_LIMIT = 100 * MiB
median = common.median


# -- summary -----------------------------------------------------------------

def summarize(results):
    runs = results['runs']
    summary = {}
    for volume in sorted({r['volume'] for r in runs}):
        summary[volume] = _volume_rows(runs, volume)
        if volume.startswith('crosshost'):
            summary[volume]['ratios'] = _crosshost_ratios(runs, volume,
                                                          summary[volume])
    summary['worker'] = _worker(runs)
    summary['throttle'] = _throttle(results['throttle'])
    return summary


def _volume_rows(runs, volume):
    rows = {}
    for contender in sorted({r['contender'] for r in runs
                             if r['volume'] == volume}):
        mine = [r for r in runs if r['volume'] == volume
                and r['contender'] == contender]
        rows[contender] = {
            'runs': len(mine),
            'seconds_median': median([r['seconds'] for r in mine]),
            'mb_per_s_median': median([r['mb_per_s'] for r in mine]),
            'mb_per_s_all': [round(r['mb_per_s'], 1) for r in mine],
            'cpu_seconds_median': median([r['cpu_seconds'] for r in mine]),
        }
        if 'dst_allocated_bytes' in mine[0]:
            rows[contender]['dst_allocated_bytes'] = max(
                r['dst_allocated_bytes'] for r in mine)
        if 'peak_rss_bytes' in mine[0]:
            rows[contender]['peak_rss_bytes_max'] = max(
                r['peak_rss_bytes'] for r in mine)
    ours = rows.get('migrator')
    found = {p: rows[p] for p in peers.PEERS if p in rows}
    if ours and found:
        rows['ratios'] = _ratios(runs, volume, rows, found)
    return rows


def _ratios(runs, volume, rows, found):
    """migrator against each peer, the best one and itself without
    polling."""
    ours = rows['migrator']['mb_per_s_median']
    best = max(found, key=lambda p: found[p]['mb_per_s_median'])
    info = {'best_peer': best}
    for name in list(found) + ['migrator-nopoll']:
        if name in rows:
            info['vs_' + name] = ours / rows[name]['mb_per_s_median']
    info['vs_best_peer'] = ours / found[best]['mb_per_s_median']
    # The same, round by round (less sensitive to drift).
    per_round = []
    for round_no in sorted({r['round'] for r in runs}):
        this = {r['contender']: r for r in runs
                if r['volume'] == volume and r['round'] == round_no}
        if 'migrator' in this and all(p in this for p in found):
            best_here = max(this[p]['mb_per_s'] for p in found)
            per_round.append(this['migrator']['mb_per_s'] / best_here)
    info['vs_best_peer_per_round_median'] = median(per_round)
    return info


def _crosshost_ratios(runs, volume, rows):
    """The copy from another host against the same copy on one host:
    the ratio of the medians, and the median of the per-round ratios."""
    local, remote = crosshost.LOCAL, crosshost.REMOTE
    if local not in rows or remote not in rows:
        return None
    per_round = []
    for round_no in sorted({r['round'] for r in runs}):
        this = {r['contender']: r for r in runs
                if r['volume'] == volume and r['round'] == round_no}
        if local in this and remote in this:
            per_round.append(this[remote]['mb_per_s'] /
                             this[local]['mb_per_s'])
    return {'crosshost_vs_local': rows[remote]['mb_per_s_median'] /
            rows[local]['mb_per_s_median'],
            'crosshost_vs_local_per_round': [round(r, 3)
                                             for r in per_round],
            'crosshost_vs_local_per_round_median': median(per_round)}


def _crosshost_targets(summary, out):
    ratios = (summary.get('crosshost') or {}).get('ratios')
    if ratios:
        out.add('cross-host copy >= %.2f of the same copy on one host'
                % crosshost.TARGET_RATIO,
                ratios['crosshost_vs_local'] >= crosshost.TARGET_RATIO,
                '%.3f (per round %s)' % (
                    ratios['crosshost_vs_local'], ', '.join(
                        '%.3f' % r
                        for r in ratios['crosshost_vs_local_per_round'])))
    rows = summary.get('crosshost-sparse') or {}
    if crosshost.REMOTE in rows and crosshost.LOCAL in rows:
        remote = rows[crosshost.REMOTE]['dst_allocated_bytes']
        local = rows[crosshost.LOCAL]['dst_allocated_bytes']
        out.add('a sparse volume copied from another host stays as sparse '
                'as copied on one host', remote <= local * 1.01 + MiB,
                '%s vs %s allocated' % (common.human_size(remote),
                                        common.human_size(local)))


def _worker(runs):
    mine = [r for r in runs if r['contender'].startswith('migrator')]
    polls = [r for r in runs if r['contender'] == 'migrator'
             and r['poll_seconds_mean'] is not None]
    w = {
        'peak_rss_bytes_max': max((r['peak_rss_bytes'] for r in mine),
                                  default=None),
        'rss_before_copy_bytes_max': max((r['rss_before_bytes']
                                          for r in mine), default=None),
        # ru_maxrss of the worker's children: the dd processes, but
        # counting the pages they shared with the worker before exec.
        'children_peak_rss_bytes_max': max(
            (r['children_peak_rss_bytes'] for r in mine
             if r['volume'] == 'block'), default=None),
        'buffer_bytes_max': max((r['peak_buffer_bytes'] or 0
                                 for r in mine), default=None),
        'poll_seconds_mean': (statistics.mean(r['poll_seconds_mean']
                                              for r in polls)
                              if polls else None),
        'poll_cpu_seconds_mean': (statistics.mean(
            r['poll_cpu_seconds_mean'] for r in polls) if polls else None),
        'polls': sum(r['polls'] for r in polls),
    }
    if w['poll_seconds_mean'] is not None:
        w['poll_cost_fraction'] = w['poll_seconds_mean'] / worker.POLL_INTERVAL
    return w


def _throttle(thr):
    out = {}
    for path in sorted({t['path'] for t in thr}):
        mine = [t for t in thr if t['path'] == path]
        out[path] = {
            'ratios': [round(t['ratio'], 4) for t in mine],
            'ratio_median': median([t['ratio'] for t in mine]),
            'window_ratio_min': min((t['window_ratio_min'] for t in mine
                                     if t['window_ratio_min'] is not None),
                                    default=None),
            'window_ratio_max': max((t['window_ratio_max'] for t in mine
                                     if t['window_ratio_max'] is not None),
                                    default=None),
        }
    return out


# -- targets -----------------------------------------------------------------

def targets(summary):
    out = common.Targets()
    for volume in ('dense', 'block'):
        ratios = summary.get(volume, {}).get('ratios')
        if ratios:
            out.add('%s copy >= 0.95 of the fastest peer (%s)'
                    % (volume, ratios['best_peer']),
                    ratios['vs_best_peer'] >= 0.95,
                    '%.3f (per-round median %.3f)'
                    % (ratios['vs_best_peer'],
                       ratios['vs_best_peer_per_round_median']))
    sparse = summary.get('sparse')
    if sparse and 'ratios' in sparse:
        ours = sparse['migrator']['seconds_median']
        if 'qemu-img' in sparse:
            q = sparse['qemu-img']['seconds_median']
            out.add('sparse copy takes no more time than qemu-img',
                    ours <= q, '%.2f s vs %.2f s' % (ours, q))
        if 'dd' in sparse:
            d = sparse['dd']['seconds_median']
            out.add('sparse copy >= 5x faster than dd', d / ours >= 5,
                    '%.1fx (%.2f s vs %.2f s)' % (d / ours, ours, d))
    _worker_targets(summary, out)
    _crosshost_targets(summary, out)
    for path, t in sorted(summary['throttle'].items()):
        ok = all(0.9 <= r <= 1.1 for r in t['ratios'])
        out.add('throttled %s rate within 10%% of the limit' % path, ok,
                'rate/limit %s' % ', '.join('%.3f' % r for r in t['ratios']))
    return out


def _worker_targets(summary, out):
    w = summary['worker']
    if w['peak_rss_bytes_max'] is not None:
        out.add('worker peak RSS < 100 MiB',
                w['peak_rss_bytes_max'] < RSS_LIMIT,
                '%.1f MiB' % (w['peak_rss_bytes_max'] / MiB))
    if w.get('poll_cost_fraction') is not None:
        measured = [summary[v]['ratios'].get('vs_migrator-nopoll')
                    for v in ('dense', 'block')
                    if v in summary and 'ratios' in summary[v]]
        out.add('progress polling every second costs < 1%',
                w['poll_cost_fraction'] < 0.01,
                '%.4f%% of the time per poll; measured throughput with / '
                'without polling: %s (noise of this disk: several %%)'
                % (100 * w['poll_cost_fraction'],
                   ', '.join('%.3f' % m for m in measured if m)))


# -- the printed summary -----------------------------------------------------

def print_summary(summary, checks):
    print()
    print('Results (medians of each contender\'s rounds)')
    for volume in ('dense', 'sparse', 'block', 'crosshost',
                   'crosshost-sparse'):
        if summary.get(volume):
            _print_volume(volume, summary[volume])
    _print_worker(summary['worker'])
    for path, t in sorted(summary['throttle'].items()):
        print('  throttle %-7s rate/limit %s (1 s windows %s to %s)' % (
            path, ', '.join('%.3f' % r for r in t['ratios']),
            '%.3f' % t['window_ratio_min']
            if t['window_ratio_min'] is not None else '-',
            '%.3f' % t['window_ratio_max']
            if t['window_ratio_max'] is not None else '-'))
    print()
    print('Targets')
    for line in checks.lines('  %-4s %s: %s'):
        print(line)


def _print_volume(volume, rows):
    print('  %s' % volume)
    for name in ['migrator', 'migrator-nopoll', crosshost.REMOTE] + \
            list(peers.PEERS):
        if name not in rows:
            continue
        r = rows[name]
        line = '    %-16s %7.2f s %8.1f MB/s  cpu %5.2f s  runs %s' % (
            name, r['seconds_median'], r['mb_per_s_median'],
            r['cpu_seconds_median'],
            '/'.join('%.0f' % x for x in r['mb_per_s_all']))
        if 'dst_allocated_bytes' in r:
            line += '  dst allocates %s' % common.human_size(
                r['dst_allocated_bytes'])
        if 'peak_rss_bytes_max' in r:
            line += '  peak RSS %.1f MiB' % (r['peak_rss_bytes_max'] / MiB)
        print(line)
    ratios = rows.get('ratios')
    if ratios and 'crosshost_vs_local' in ratios:
        print('    from another host / on one host %.3f (per round %s)' % (
            ratios['crosshost_vs_local'],
            ', '.join('%.3f' % r
                      for r in ratios['crosshost_vs_local_per_round'])))
    elif ratios:
        print('    migrator / dd %.3f, / qemu-img %.3f, / cp %.3f, '
              '/ best peer (%s) %.3f (per round %.3f)%s' % (
                  ratios.get('vs_dd', float('nan')),
                  ratios.get('vs_qemu-img', float('nan')),
                  ratios.get('vs_cp', float('nan')),
                  ratios['best_peer'], ratios['vs_best_peer'],
                  ratios['vs_best_peer_per_round_median'],
                  ', / without polling %.3f' % ratios['vs_migrator-nopoll']
                  if 'vs_migrator-nopoll' in ratios else ''))


def _print_worker(w):
    if w['peak_rss_bytes_max'] is not None:
        print('  worker: peak RSS %.1f MiB (%.1f MiB before the copy), I/O '
              'buffers %.1f MiB at most' % (
                  w['peak_rss_bytes_max'] / MiB,
                  w['rss_before_copy_bytes_max'] / MiB,
                  (w['buffer_bytes_max'] or 0) / MiB))
    if w.get('poll_seconds_mean') is not None:
        print('  progress poll: %.3f ms wall, %.3f ms CPU each, every %d s '
              '(%d polls)' % (w['poll_seconds_mean'] * 1e3,
                              w['poll_cpu_seconds_mean'] * 1e3,
                              worker.POLL_INTERVAL, w['polls']))
