"""The measurements: many migrations under continuous guest writes
(phase 1), end to end and CPU against the mirror (phase 2), guest write
latency (phase 3)."""

import os
import random
import time

from benchmarks import common
from benchmarks.live import chain as chain_mod
from benchmarks.live import runners

KiB, MiB = common.KiB, common.MiB
ROLES = ('ours', 'mirror')


# -- phase 1: many migrations under continuous guest writes ----------------

def phase_holds(s):
    a = s.args
    common.log('Phase 1: %d migrations of a %s volume, the guest writing '
               'as fast as it can', a.migrations,
               common.short_size(a.small_size))
    chain = chain_mod.Chain(s.workdir, 'small', a.small_size)
    with s.unit():
        s.attach('ours', chain)
    with open(chain.path, 'rb') as f:
        model = bytearray(f.read())
    for i in range(a.migrations):
        with s.unit():
            _one_hold_run(s, i, chain, model)
    with s.unit():
        s.detach('ours', chain)
    os.unlink(chain.path)


def _one_hold_run(s, i, chain, model):
    a = s.args
    w = s.writer('ours', chain, seed=1000 + i, min_len=4 * KiB,
                 max_len=a.writer_max)
    w.start()
    w.wait_for(5)
    run = runners.run_ours(s, chain)
    n_done = w.count
    w.wait_for(5)           # it goes on writing afterwards
    s.stop_writer(w)
    s.flush('ours', chain)
    chain_mod.apply_writes(model, 0, w.writes)
    with open(run['dst'], 'rb') as f:
        data = f.read()
    if data != model:
        raise chain_mod.DataMismatch(
            'migration %d: %s differs from the expected content at byte %d'
            % (i, run['dst'], chain_mod.first_difference(data, model)))
    os.unlink(chain.path)
    chain.path = run['dst']
    run['verified'] = True
    m = run['marks']
    fold_writes = [x for x in w.times if m['switched'] <= x[0] < m['done']]
    run.update({
        'phase': 'holds', 'size': a.small_size, 'index': i,
        'guest_writes': len(w.writes),
        'guest_writes_before_done': n_done,
        'guest_writes_during_fold': len(fold_writes),
        'guest_bytes_during_fold': w.written_bytes(m['switched'],
                                                   m['done']),
        'guest_write_rate_mbs': (w.written_bytes(m['t0'], m['done']) / MiB /
                                 (m['done'] - m['t0'])),
        'guest_max_rtt_during_hold': rtt_during_holds(run['holds'], w)})
    s.results['runs'].append(run)
    common.log('  %2d/%d: freeze %s ms, copy pivot %s ms, fold pivot %s '
               'ms, fold-in %.2f s (%d guest writes during it), total '
               '%.2f s', i + 1, a.migrations,
               *[hold_ms(run, k) for k in ('freeze', 'copy_pivot',
                                           'fold_pivot')],
               run['phases']['fold'], len(fold_writes), run['total'])


def hold_ms(run, label):
    vals = [c['seconds'] for c in run['holds']
            if c['label'] == label and c['ok']]
    return '%.1f' % (vals[0] * 1000) if vals else '-'


def rtt_during_holds(holds, w):
    """The longest guest write round trip overlapping each call."""
    out = {}
    for c in holds:
        rtts = [t1 - t0 for t0, t1 in w.times
                if t0 < c['t1'] and t1 > c['t0']]
        if rtts:
            out[c['label']] = max(out.get(c['label'], 0), max(rtts))
    return out


# -- phase 2: end to end, CPU; phase 3 on the first size -------------------

def phase_e2e(s):
    a = s.args
    for si, size in enumerate(a.sizes):
        common.log('Phase 2: %s volumes, %d repetitions of each approach',
                   common.short_size(size), a.repeat)
        chains = {}
        for role in ROLES:
            t = time.perf_counter()
            chains[role] = chain_mod.Chain(
                s.workdir, '%s-%s' % (role, common.short_size(size)), size)
            with s.unit():
                s.attach(role, chains[role])
            common.log('  created the %s volume (%.1f s)', role,
                       time.perf_counter() - t)
        rng = random.Random(size)
        for rep in range(a.repeat):
            _e2e_rep(s, chains, size, rep, si, rng)
        if si == 0 and a.latency_runs:
            phase_latency(s, chains, size)
        for role, chain in chains.items():
            with s.unit():
                s.detach(role, chain)
            os.unlink(chain.path)


def _e2e_rep(s, chains, size, rep, si, rng):
    """One repetition: dd, then both approaches (in turns), each with a
    few guest writes before and after its switch."""
    order = list(ROLES)
    if (rep + si) % 2:
        order.reverse()
    if s.args.dd:
        took = runners.run_dd(s, chains['ours'])
        s.results['runs'].append({'approach': 'dd', 'phase': 'e2e',
                                  'size': size, 'rep': rep, 'total': took})
        common.log('  rep %d: dd O_DIRECT %.2f s', rep + 1, took)
    for role in order:
        chain = chains[role]

        def hook(step, role=role, chain=chain):
            if step in ('frozen', 'copying', 'switched', 'pivoted'):
                s.few_writes(role, chain, 2, rng)
        with s.unit():
            run = runners.run_approach(s, role, chain, hook=hook)
            run.update({'phase': 'e2e', 'size': size, 'rep': rep})
            runners.finish(s, role, chain, run,
                           check_source=(role == 'ours'))
        common.log('  rep %d: %-6s %.2f s  (%s)  QEMU CPU %.3f s',
                   rep + 1, role, run['total'],
                   ', '.join('%s %.2f' % kv for kv in run['phases'].items()),
                   run['cpu']['seconds'])


def phase_latency(s, chains, size):
    a = s.args
    common.log('Phase 3: guest write latency (4 KiB writes every %g ms), '
               'idle and during %d migrations of each approach',
               a.probe_interval * 1000, a.latency_runs)
    lat = s.results.setdefault('latency_raw', {})
    for role in ROLES:
        with s.unit():
            w = s.writer(role, chains[role], seed=7 + len(role),
                         interval=a.probe_interval)
            w.start()
            time.sleep(a.idle_seconds)
            s.stop_writer(w)
        chains[role].pending.extend(w.writes)
        lat.setdefault('idle', []).extend(w.latencies())
        common.log('  idle (%s domain): %d writes, median %.2f ms', role,
                   w.count, common.median(w.latencies()) * 1000)
    for rep in range(a.latency_runs):
        order = ['mirror', 'ours'] if rep % 2 else ['ours', 'mirror']
        for role in order:
            with s.unit():
                _one_latency_run(s, role, chains[role], size, rep, lat)


#: The steps of each approach, between two of its marks.
STEPS = {'ours': [('start', 't0', 'frozen'), ('copy', 'frozen', 'copied'),
                  ('complete', 'copied', 'switched'),
                  ('fold', 'switched', 'done')],
         'mirror': [('mirror', 't0', 'ready'), ('pivot', 'ready', 'pivoted'),
                    ('define', 'pivoted', 'done')]}


def _one_latency_run(s, role, chain, size, rep, lat):
    w = s.writer(role, chain, seed=100 + rep, interval=s.args.probe_interval)
    w.start()
    w.wait_for(5)
    run = runners.run_approach(s, role, chain)
    w.wait_for(5)
    s.stop_writer(w)
    run.update({'phase': 'latency', 'size': size, 'rep': rep})
    m = run['marks']
    run['latency'] = common.summary(w.latencies(m['t0'], m['done']))
    run['guest_max_rtt_during_hold'] = rtt_during_holds(run['holds'], w)
    lat.setdefault(role, []).extend(w.latencies(m['t0'], m['done']))
    for step, lo, hi in STEPS[role]:
        lat.setdefault('%s:%s' % (role, step), []).extend(
            w.latencies(m[lo], m[hi]))
    runners.finish(s, role, chain, run, writes=w.writes)
    common.log('  %-6s: %d writes during %.2f s, median %.2f ms, max %.2f '
               'ms', role, run['latency']['n'], run['total'],
               run['latency']['median'] * 1000,
               run['latency']['max'] * 1000)
