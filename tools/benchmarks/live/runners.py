"""The approaches, one migration each: migrator's live path, Nova's QEMU
mirror, and dd as the disk's limit; and the verification that makes a
migration's figures usable."""

import os
import subprocess
import threading
import time
import uuid as uuid_mod

from benchmarks import common
from benchmarks.live import session as session_mod
from migrator_testing import guests


def _begin(s, role, chain):
    """A fresh destination, the source out of the page cache, and the
    measurement's start: (dst, pid, hold mark, CPU sample)."""
    dst = chain.new_path()
    common.fresh_file(dst, chain.size, sync=True)
    common.evict(chain.path)
    pid = guests.qemu_pid(s.domains[role][0])
    return dst, pid, s.timer.mark(), common.cpu_sample(pid)


def run_ours(s, chain, hook=None):
    """start -> copy (migrator's copier) -> complete -> fold-in done.
    Returns the phase times, marks and CPU; ``chain`` is not yet
    verified (its new file is ``result['dst']``)."""
    hook = hook or (lambda step: None)
    uuid = s.domains['ours'][1]
    src = chain.path
    dst, pid, mark, cpu0 = _begin(s, 'ours', chain)
    dst_aid = str(uuid_mod.uuid4())
    done = threading.Event()
    outcome = []

    def on_done(err):
        outcome.append(err)
        done.set()

    t0 = time.perf_counter()
    s.driver.migration_start(uuid, chain.aid)
    t1 = time.perf_counter()
    hook('frozen')
    copy = s.copy_worker.copy(src, dst, chain.size)
    t2 = time.perf_counter()
    hook('copied')
    s.driver.migration_complete(uuid, chain.aid, dst_aid,
                                session_mod.conn_info(dst), on_done=on_done)
    t3 = time.perf_counter()
    hook('switched')
    if not done.wait(s.args.fold_timeout):
        raise common.BenchError('the fold-in did not finish within %ss'
                                % s.args.fold_timeout)
    t4 = time.perf_counter()
    cpu1 = common.cpu_sample(pid)
    if outcome[0] is not None:
        raise common.BenchError('the fold-in failed: %s' % outcome[0])
    _check_on(s, 'ours', chain.target, dst, 'the fold-in')
    timings = s.driver.timings.pop(chain.aid, {})
    chain.aid = dst_aid
    holds = s.timer.since(mark)
    s.events.qemu_pivots(holds, uuid)
    return {'approach': 'ours', 'dst': dst,
            'marks': {'t0': t0, 'frozen': t1, 'copied': t2,
                      'switched': t3, 'done': t4},
            'phases': {'start': t1 - t0, 'copy': t2 - t1,
                       'complete': t3 - t2, 'fold': t4 - t3},
            'total': t4 - t0,
            'cpu': common.cpu_delta(cpu0, cpu1),
            'holds': holds,
            'copier': copy,
            'driver_timings': timings}


def _check_on(s, role, target, dst, what):
    """After ``what`` the disk must be on ``dst`` alone."""
    if s.live_chain(role, target) != [os.path.realpath(dst)]:
        raise common.BenchError('after %s the disk is on %s'
                                % (what, s.live_chain(role, target)))


def run_mirror(s, chain, hook=None):
    """Nova's swap_volume: full mirror onto the pre-created
    destination (REUSE_EXT), wait READY, pivot, rewrite the
    persistent definition."""
    import libvirt
    hook = hook or (lambda step: None)
    uuid = s.domains['mirror'][1]
    target = chain.target
    dom = s.dom('mirror')
    s.events.forget_jobs(uuid, target)
    dst, pid, mark, cpu0 = _begin(s, 'mirror', chain)
    dest_xml = ("<disk type='file'><driver type='raw'/>"
                "<source file='%s'/></disk>" % dst)
    t0 = time.perf_counter()
    dom.blockCopy(target, dest_xml, None,
                  libvirt.VIR_DOMAIN_BLOCK_COPY_REUSE_EXT |
                  libvirt.VIR_DOMAIN_BLOCK_COPY_TRANSIENT_JOB)
    hook('copying')
    wait_ready(s, dom, uuid, target)
    t1 = time.perf_counter()
    with s.timer.label('mirror_pivot'):
        _pivot(dom, target)
    t2 = time.perf_counter()
    _check_on(s, 'mirror', target, dst, 'the mirror')
    _define_on(s, dom, target, dst)
    t3 = time.perf_counter()
    cpu1 = common.cpu_sample(pid)
    hook('pivoted')
    holds = s.timer.since(mark)
    s.events.qemu_pivots(holds, uuid)
    return {'approach': 'mirror', 'dst': dst,
            'marks': {'t0': t0, 'ready': t1, 'pivoted': t2, 'done': t3},
            'phases': {'mirror': t1 - t0, 'pivot': t2 - t1,
                       'define': t3 - t2},
            'total': t3 - t0,
            'cpu': common.cpu_delta(cpu0, cpu1),
            'holds': holds}


def _pivot(dom, target):
    """blockJobAbort(PIVOT), retried while libvirt says not ready."""
    import libvirt
    from migrator_compute.drivers.libvirt import blockjob
    deadline = time.monotonic() + 60
    while True:
        try:
            dom.blockJobAbort(target,
                              libvirt.VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT)
            return
        except libvirt.libvirtError as e:
            if e.get_error_code() != blockjob.NOT_READY or \
                    time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _define_on(s, dom, target, dst):
    """Rewrite the persistent definition: the disk on ``dst``."""
    import libvirt
    from migrator_compute.drivers.libvirt import guest
    pers = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE |
                       libvirt.VIR_DOMAIN_XML_SECURE)
    disk = guest.find_disk(guest.parse(pers), target)
    guest.set_source(disk, 'file', dst, 'raw')
    s.conn.defineXML(guest.replace_disk(pers, target, disk))


def wait_ready(s, dom, uuid, target, timeout=3600):
    import libvirt
    deadline = time.monotonic() + timeout
    while True:
        info = dom.blockJobInfo(target, 0)
        statuses = s.events.job_statuses(uuid, target)
        if libvirt.VIR_DOMAIN_BLOCK_JOB_FAILED in statuses or \
                libvirt.VIR_DOMAIN_BLOCK_JOB_CANCELED in statuses:
            raise common.BenchError('the mirror job failed')
        if not info:
            raise common.BenchError('the mirror job vanished')
        if libvirt.VIR_DOMAIN_BLOCK_JOB_READY in statuses or \
                (info['end'] and info['cur'] == info['end']):
            return
        if time.monotonic() > deadline:
            raise common.BenchError('the mirror was not ready after %ss'
                                    % timeout)
        s.events.wait(0.05)


def run_approach(s, role, chain, hook=None):
    return (run_ours if role == 'ours' else run_mirror)(s, chain, hook=hook)


def run_dd(s, chain):
    """The disk's limit for one copy: dd bs=1M with O_DIRECT."""
    out = os.path.join(s.workdir, 'dd-target.raw')
    common.fresh_file(out, chain.size, sync=True)
    common.evict(chain.path)
    t0 = time.perf_counter()
    subprocess.run(['dd', 'if=%s' % chain.path, 'of=%s' % out,
                    'bs=1M', 'iflag=direct', 'oflag=direct',
                    'conv=notrunc,fsync', 'status=none'], check=True)
    took = time.perf_counter() - t0
    os.unlink(out)
    return took


def finish(s, role, chain, run, writes=(), check_source=False):
    """Flush the guest, verify the destination byte for byte, and
    record the run."""
    s.flush(role, chain)
    t = time.perf_counter()
    chain.verify(run['dst'], writes, check_source)
    run['verify_seconds'] = time.perf_counter() - t
    run['verified'] = True
    common.evict(chain.path)
    s.results['runs'].append(run)
    return run
