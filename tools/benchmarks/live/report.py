"""The live benchmark's report: figures of the verified runs into
``results`` (for the JSON) and as tables, then the targets."""

import collections

from benchmarks import common

KiB, MiB = common.KiB, common.MiB
HOLD_LIMIT = 0.050
CPU_RATIO_LIMIT = 0.2
HOLD_NAMES = [('freeze', 'freeze (snapshotCreateXML)'),
              ('copy_pivot', 'copy pivot (blockJobAbort PIVOT)'),
              ('fold_pivot', 'fold-in pivot (blockJobAbort PIVOT)'),
              ('mirror_pivot', 'mirror pivot, Nova (reference)')]


def ms(v):
    return '%8.1f' % (v * 1000) if v is not None else '       -'


def _summaries(groups):
    return {k: common.summary(v) for k, v in groups.items()}


def report(res, args):
    """Print the report; True when every target is met."""
    runs = [r for r in res['runs'] if r.get('verified')]
    ours = [r for r in runs if r['approach'] == 'ours']
    mirror = [r for r in runs if r['approach'] == 'mirror']
    phase1 = [r for r in ours if r.get('phase') == 'holds']
    lines = []
    _holds(res, ours, mirror, lines.append)
    e2e = _e2e(res, runs, args, lines.append)
    _cpu(e2e, runs, lines.append)
    _latency(res, args, lines.append)
    fold = _fold(res, phase1, args, lines.append)
    targets = _targets(res, e2e, fold, phase1, args)
    res['targets'] = targets.as_json('target', 'pass')
    lines += ['', '== Targets =='] + targets.lines('%s  %-45s %s')
    res['all_targets_met'] = targets.all_met()
    print('\n'.join(lines), flush=True)
    return res['all_targets_met']


def _holds(res, ours, mirror, p):
    holds = collections.defaultdict(list)
    in_qemu = collections.defaultdict(list)
    retries = collections.Counter()
    for r in ours + mirror:
        for c in r['holds']:
            if c['ok']:
                holds[c['label']].append(c['seconds'])
                if 'qemu_seconds' in c:
                    in_qemu[c['label']].append(c['qemu_seconds'])
            else:
                retries[c['label']] += 1
    res['pivot_in_qemu'] = _summaries(in_qemu)
    res['holds'] = _summaries(holds)
    res['holds_failed_attempts'] = dict(retries)
    p('')
    p('== Guest I/O held: duration of the libvirt calls (%d verified '
      'migrations of ours, %d mirrors) ==' % (len(ours), len(mirror)))
    p('%-34s %5s %8s %8s %8s' % ('call', 'n', 'median', 'p99', 'max'))
    for key, label in HOLD_NAMES:
        s = res['holds'].get(key, {'n': 0})
        p('%-34s %5d %s %s %s  ms' % (
            label, s['n'], ms(s.get('median')), ms(s.get('p99')),
            ms(s.get('max'))))
    p('of which QEMU completing the job (its events ready -> concluded):')
    for key, label in HOLD_NAMES[1:]:
        s = res['pivot_in_qemu'].get(key, {'n': 0})
        p('  %-32s %5d %s %s %s  ms' % (
            label.split(' (')[0].split(',')[0], s['n'],
            ms(s.get('median')), ms(s.get('p99')), ms(s.get('max'))))
    if retries:
        p('  pivots refused as not ready, retried: %s' % dict(retries))
    _hold_extras(res, ours, mirror, p)


def _hold_extras(res, ours, mirror, p):
    rtt = collections.defaultdict(list)
    for r in ours + mirror:
        for k, v in r.get('guest_max_rtt_during_hold', {}).items():
            rtt[k].append(v)
    res['guest_rtt_overlapping_holds'] = _summaries(rtt)
    if rtt:
        p('  longest guest write round trip overlapping each call, '
          'median (max) over the runs with a guest writer: ' +
          ', '.join('%s %.1f (%.1f) ms' % (k, common.median(v) * 1000,
                                           max(v) * 1000)
                    for k, v in sorted(rtt.items())))
    drv = collections.defaultdict(list)
    for r in ours:
        for k, v in r.get('driver_timings', {}).items():
            drv[k].append(v)
    res['driver_timings'] = _summaries(drv)
    if drv:
        p('  driver-reported steps (median): ' + ', '.join(
            '%s %.3f s' % (k, common.median(v))
            for k, v in sorted(drv.items())))


def _e2e(res, runs, args, p):
    e2e = {}
    p('')
    p('== End to end (median of %d, same volume moved file to file; '
      'seconds) ==' % args.repeat)
    p('%-5s %8s %8s %7s %7s %7s %7s %8s %7s %8s' % (
        'size', 'ours', 'mirror', 'ratio', 'start', 'copy', 'compl',
        'fold', 'dd', 'ours/dd'))
    for size in args.sizes:
        sel = {ap: [r for r in (runs if ap != 'dd' else res['runs'])
                    if r.get('phase') == 'e2e' and r['size'] == size and
                    r['approach'] == ap]
               for ap in ('ours', 'mirror', 'dd')}
        if not sel['ours'] or not sel['mirror']:
            continue
        d = e2e[common.short_size(size)] = _e2e_figures(sel, size)
        ph = d['ours_phases']
        dd = d.get('dd', {}).get('median')
        p('%-5s %8.2f %8.2f %7.2f %7.3f %7.2f %7.3f %8.3f %7s %8s' % (
            common.short_size(size), d['ours']['median'],
            d['mirror']['median'], d['ratio_ours_to_mirror'],
            ph['start']['median'], ph['copy']['median'],
            ph['complete']['median'], ph['fold']['median'],
            '%.2f' % dd if dd else '-',
            '%.2f' % (d['ours']['median'] / dd) if dd else '-'))
    res['e2e'] = e2e
    p('  (ours = start + copy by migrator\'s copier + complete + '
      'fold-in; mirror = blockCopy REUSE_EXT + READY + pivot + '
      'define; ratio = ours / mirror)')
    return e2e


def _e2e_figures(sel, size):
    """Times, phases, CPU and throughput of one size's runs
    (``sel``: approach -> runs)."""
    d = {ap: common.summary([r['total'] for r in v])
         for ap, v in sel.items() if v}
    for ap, phases in (('ours', ('start', 'copy', 'complete', 'fold')),
                       ('mirror', ('mirror', 'pivot', 'define'))):
        d['%s_phases' % ap] = {
            ph: common.summary([r['phases'][ph] for r in sel[ap]])
            for ph in phases}
    d['ratio_ours_to_mirror'] = d['ours']['median'] / d['mirror']['median']
    for ap in ('ours', 'mirror'):
        d['cpu_%s' % ap] = common.summary(
            [r['cpu']['seconds'] for r in sel[ap]])
        d['cpu_ticks_%s' % ap] = common.summary(
            [r['cpu']['ticks_seconds'] for r in sel[ap]])
    d['cpu_ratio'] = (d['cpu_ours']['median'] / d['cpu_mirror']['median']
                      if d['cpu_mirror']['median'] else None)
    d['throughput_mbs'] = {ap: size / MiB / d[ap]['median'] for ap in d
                           if ap in ('ours', 'mirror', 'dd')}
    return d


def _cpu(e2e, runs, p):
    p('')
    p('== QEMU CPU time, non-vCPU threads (median; seconds) ==')
    p('%-5s %9s %9s %7s   %s' % ('size', 'ours', 'mirror', 'ratio',
                                 'ours by thread | mirror by thread'))
    for key, d in e2e.items():
        by = {}
        for ap in ('ours', 'mirror'):
            acc = collections.defaultdict(list)
            for r in runs:
                if r.get('phase') == 'e2e' and \
                        common.short_size(r['size']) == key and \
                        r['approach'] == ap:
                    for k, v in r['cpu']['by_thread'].items():
                        acc[k].append(v)
            by[ap] = ', '.join('%s %.3f' % (k, common.median(v))
                               for k, v in sorted(acc.items()))
        p('%-5s %9.3f %9.3f %7.3f   %s | %s' % (
            key, d['cpu_ours']['median'], d['cpu_mirror']['median'],
            d['cpu_ratio'] if d['cpu_ratio'] is not None else -1,
            by['ours'], by['mirror']))
    p('  (schedstat of the threads whose comm is not "CPU n/KVM"; '
      'clock-tick cross-check ours/mirror: %s)' % ', '.join(
          '%s %.2f/%.2f' % (k, d['cpu_ticks_ours']['median'],
                            d['cpu_ticks_mirror']['median'])
          for k, d in e2e.items()))


def _latency(res, args, p):
    raw = res.pop('latency_raw', {})
    res['latency'] = _summaries(raw)
    if not raw:
        return
    p('')
    p('== Guest write latency: round trip of one 4 KiB qemu-io '
      'write through HMP (%s volume; ms) ==' % common.short_size(
          args.sizes[0]))
    p('%-22s %6s %8s %8s %8s %8s' % ('condition', 'n', 'median',
                                     'p90', 'p99', 'max'))
    keys = ['idle']
    for ap in ('ours', 'mirror'):
        keys += [ap] + sorted(k for k in raw if k.startswith(ap + ':'))
    for k in keys:
        s = res['latency'].get(k)
        if not s or not s['n']:
            continue
        p('%-22s %6d %s %s %s %s' % (
            ('  ' if ':' in k else '') + k, s['n'], ms(s['median']),
            ms(s['p90']), ms(s['p99']), ms(s['max'])))
    idle = res['latency'].get('idle', {}).get('median')
    if idle:
        p('  median vs idle: ours %.2fx, mirror %.2fx' % (
            res['latency']['ours']['median'] / idle,
            res['latency']['mirror']['median'] / idle))


def _fold(res, phase1, args, p):
    """Fold-in under continuous writes."""
    if not phase1:
        return {}
    fold = {
        'migrations': len(phase1),
        'finished': sum(1 for r in phase1 if r.get('verified')),
        'fold_seconds': common.summary([r['phases']['fold']
                                        for r in phase1]),
        'complete_seconds': common.summary([r['phases']['complete']
                                            for r in phase1]),
        'guest_writes_during_fold': common.summary(
            [r['guest_writes_during_fold'] for r in phase1]),
        'guest_mib_during_fold': common.summary(
            [r['guest_bytes_during_fold'] / MiB for r in phase1]),
        'guest_write_rate_mbs': common.summary(
            [r['guest_write_rate_mbs'] for r in phase1]),
        'total_seconds': common.summary([r['total'] for r in phase1])}
    res['fold_under_writes'] = fold
    p('')
    p('== Fold-in while the guest writes as fast as it can (%d '
      'migrations of %s, writes of 4 KiB..%s) ==' % (
          len(phase1), common.short_size(args.small_size),
          common.short_size(args.writer_max)
          if args.writer_max % MiB == 0
          else '%dK' % (args.writer_max // KiB)))
    fs = fold['fold_seconds']
    p('  fold-in: median %.3f s, p99 %.3f s, max %.3f s; finished '
      '%d/%d' % (fs['median'], fs['p99'], fs['max'],
                 fold['finished'], fold['migrations']))
    p('  complete (sync part): median %.3f s, max %.3f s' % (
        fold['complete_seconds']['median'],
        fold['complete_seconds']['max']))
    p('  guest writes during the fold-in: median %d (%.1f MiB), '
      'min %d; guest write rate %.0f MB/s (median)' % (
          fold['guest_writes_during_fold']['median'],
          fold['guest_mib_during_fold']['median'],
          fold['guest_writes_during_fold']['min'],
          fold['guest_write_rate_mbs']['median']))
    return fold


def _targets(res, e2e, fold, phase1, args):
    targets = common.Targets()
    for key, label in HOLD_NAMES[:3]:
        s = res['holds'].get(key, {'n': 0})
        name = '%s p99 < 50 ms' % label.split(' (')[0]
        if s['n'] < 20:
            targets.add(name, False, 'only %d samples (need 20)' % s['n'])
        else:
            targets.add(name, s['p99'] < HOLD_LIMIT, 'p99 %.1f ms over %d'
                        % (s['p99'] * 1000, s['n']))
    for key, d in e2e.items():
        targets.add('end to end %s: ours <= mirror' % key,
                    d['ours']['median'] <= d['mirror']['median'],
                    'ours %.2f s, mirror %.2f s (x%.2f)' % (
                        d['ours']['median'], d['mirror']['median'],
                        d['ratio_ours_to_mirror']))
    for key, d in e2e.items():
        ratio = d['cpu_ratio']
        targets.add('QEMU CPU %s: ours <= 0.2 x mirror' % key,
                    ratio is not None and ratio <= CPU_RATIO_LIMIT,
                    'ours %.3f s, mirror %.3f s (x%.3f)' % (
                        d['cpu_ours']['median'], d['cpu_mirror']['median'],
                        ratio if ratio is not None else float('nan')))
    name = 'fold-in finishes under continuous writes'
    if phase1:
        ok = (fold['finished'] == fold['migrations'] == args.migrations
              and fold['guest_writes_during_fold']['min'] > 0)
        targets.add(name, ok, '%d/%d finished, max %.2f s, >= %d guest '
                    'writes during each' % (
                        fold['finished'], args.migrations,
                        fold['fold_seconds']['max'],
                        fold['guest_writes_during_fold']['min']))
    else:
        targets.add(name, False, 'not measured')
    return targets
