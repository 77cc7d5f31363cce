"""migrator's copy, the real path of a migration, in a worker process of
its own (so that its peak RSS is its own): ``run_worker`` in the
benchmark, ``worker_main`` in the worker (``bench_copy.py --worker
SPEC``)."""

import json
import os
import resource
import subprocess
import sys
import threading
import time
import uuid as uuid_mod

from benchmarks import common

POLL_INTERVAL = 1
ENTRY_POINT = os.path.join(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))), 'bench_copy.py')

WORKER_CONF = """\
[DEFAULT]
state_path = {state}
host = bench-worker
transport_url = fake:/
log_file = {log}
debug = false

[oslo_messaging_notifications]
driver = messagingv2

[volume]
enabled_backends = src,dst
migration_progress_report_interval = {interval}
volume_copy_bps_limit = {limit}
{extra}
[src]
backend_type = {kind}
{src_opts}
migration_progress_report = {report}

[dst]
backend_type = {kind}
{dst_opts}
migration_progress_report = {report}

[nbd]
{nbd_opts}
"""


def _backend_options(kind, state, src, dst, src_id):
    """(src options, dst options) of the worker's two backends (a
    source of another host: an empty source backend)."""
    if kind == 'file':
        src_dir = os.path.join(state, 'src')
        os.makedirs(src_dir)
        if src is not None:
            os.link(src, os.path.join(src_dir, 'volume-' + src_id))
        return 'file_path = %s' % src_dir, 'file_path = %s' % dst
    return ('block_devices = %s\nvolume_clear = none' % src,
            'block_devices = %s\nvolume_clear = none' % dst)


def run_worker(workdir, kind, src, dst, size, poll=True, limit=0,
               extra_opts=None, remote=None):
    """The migrator copy in a worker process of its own.

    ``kind`` file: ``src`` is a source volume file (linked into the
    source backend's directory), ``dst`` the destination backend's
    directory.  ``kind`` block: both are loop devices.  ``remote``: the
    source is another host's export (``src`` its nbd location, kind
    file; a crosshost.CrossHost runs the worker inside the destination
    host).  Returns the worker's report (with ``dst_path``)."""
    state = os.path.join(workdir, 'worker-%s' % uuid_mod.uuid4().hex[:8])
    os.makedirs(state)
    src_id = str(uuid_mod.uuid4())
    src_opts, dst_opts = _backend_options(
        kind, state, None if remote else src, dst, src_id)
    nbd_opts = remote.worker_opts() if remote else {}
    conf = os.path.join(state, 'migrator.conf')
    extra = ''.join('%s = %s\n' % kv for kv in (extra_opts or {}).items())
    with open(conf, 'w') as f:
        f.write(WORKER_CONF.format(
            state=state, log=os.path.join(state, 'worker.log'),
            interval=POLL_INTERVAL, limit=limit, extra=extra, kind=kind,
            src_opts=src_opts, dst_opts=dst_opts,
            report='true' if poll else 'false',
            nbd_opts=''.join('%s = %s\n' % kv for kv in nbd_opts.items())))
    spec = {'conf': conf, 'kind': kind, 'size': size, 'src_id': src_id,
            'sample': bool(limit), 'src_location': src if remote else None}
    if kind == 'block':
        # The source volume is the whole source device (creating a
        # smaller one would zero the rest of it).
        from migrator_volume import fsutils
        spec['src_size'] = fsutils.device_size(src)
    prefix = remote.worker_prefix() if remote else []
    proc = subprocess.run(
        prefix + [sys.executable, ENTRY_POINT, '--worker', json.dumps(spec)],
        stdin=subprocess.DEVNULL, capture_output=True, text=True)
    lines = proc.stdout.strip().splitlines()
    try:
        report = json.loads(lines[-1])
    except (IndexError, ValueError):
        raise common.BenchError('the worker failed (%d): %s %s'
                                % (proc.returncode, proc.stdout[-2000:],
                                   proc.stderr[-2000:]))
    if report.get('state') != 'done':
        raise common.BenchError('the migrator copy failed: %s (log in %s)'
                                % (report.get('error'), state))
    report['state_dir'] = state
    if kind == 'file' and not remote:
        os.unlink(os.path.join(state, 'src', 'volume-' + src_id))
    return report


# -- inside the worker process -----------------------------------------------

class Reporter:
    """Stands for the conductor's RPC API."""

    def __init__(self):
        self.progress = []
        self.finished = []

    def copy_progress(self, ctxt, migration_id, bytes_done, total):
        self.progress.append((time.monotonic(), bytes_done))

    def copy_finished(self, ctxt, migration_id, bytes_done, total,
                      error=None):
        self.finished.append((bytes_done, error))


def _time_polls():
    """Time every progress poll (wall, CPU of its thread)."""
    from migrator_volume.copy import progress
    poll_times = []
    real_poll = progress.ProgressPoller.poll

    def timed_poll(self):
        wall, cpu = time.perf_counter(), time.thread_time()
        real_poll(self)
        poll_times.append((time.perf_counter() - wall,
                           time.thread_time() - cpu))

    progress.ProgressPoller.poll = timed_poll
    return poll_times


def _make_job(conf, spec, reporter):
    """The CopyJob of the worker's volume and a destination its backend
    creates; (job, destination path)."""
    from migrator_api.common import context
    from migrator_volume import backends as mbackends
    from migrator_volume.copy import job as copy_job
    from migrator_volume import notifications
    backends = mbackends.load_backends(conf)
    if spec.get('src_location'):
        src_loc = spec['src_location']
    elif spec['kind'] == 'file':
        src_loc = {'driver_volume_type': 'file',
                   'data': {'path': os.path.join(
                       backends['src'].directory,
                       'volume-' + spec['src_id'])}}
    else:
        src_loc = backends['src'].create_volume(spec['src_id'],
                                                spec['src_size'])
    dst_loc = backends['dst'].create_volume(str(uuid_mod.uuid4()),
                                            spec['size'])
    job = copy_job.CopyJob(
        context.get_admin_context(), conf, backends, reporter,
        notifications.VolumeNotifier(conf.host), 'bench-' + spec['src_id'],
        spec['src_id'], src_loc, 'dst', dst_loc, spec['size'])
    return job, backends['dst'].local_path(dst_loc)


def _sampled_run(job, sample):
    """Run the job; ``sample``: record (time, bytes done) every 0.25 s
    meanwhile (for the throttle figures; polling has a cost).  Returns
    (started, elapsed, samples, rusage before)."""
    samples = []
    stop = threading.Event()

    def sampler():
        while not stop.wait(0.25):
            copier = job._copier
            if copier is not None:
                samples.append((time.monotonic(), copier.bytes_done))

    thread = threading.Thread(target=sampler, daemon=True)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    if sample:
        thread.start()
    started = time.monotonic()
    job.run()
    elapsed = time.monotonic() - started
    stop.set()
    if sample:
        thread.join()
    return started, elapsed, samples, usage


def worker_main(spec):
    """Inside the worker process: one copy as the volume worker does
    it; print a JSON report as the last line."""
    from oslo_log import log as logging

    from migrator_api.common import rpc
    conf = common.migrator_conf(['--config-file', spec['conf']],
                                prog='migrator-volume', log_options=True)
    logging.setup(conf, 'migrator')
    rpc.init(conf)
    poll_times = _time_polls()
    reporter = Reporter()
    job, dst_path = _make_job(conf, spec, reporter)
    rss_before = _vm_status('VmRSS')
    started, elapsed, samples, usage = _sampled_run(job, spec['sample'])
    after = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    copier = job._copier
    report = {
        'state': job.state, 'error': job.error, 'seconds': elapsed,
        'started': started, 'size': spec['size'], 'dst_path': dst_path,
        'copier': type(copier).__name__ if copier else None,
        'in_flight': getattr(copier, 'in_flight', None),
        'chunk_size': getattr(copier, 'chunk_size', None),
        'peak_buffer_bytes': getattr(copier, 'peak_buffer_bytes', None),
        'rss_before_bytes': rss_before,
        'peak_rss_bytes': _vm_status('VmHWM'),
        'children_peak_rss_bytes': children.ru_maxrss * 1024,
        'cpu_seconds': (after.ru_utime - usage.ru_utime + after.ru_stime
                        - usage.ru_stime + children.ru_utime
                        + children.ru_stime),
        'progress': reporter.progress, 'samples': samples,
        'polls': poll_times, 'finished': reporter.finished,
    }
    rpc.cleanup()
    print(json.dumps(report))
    return 0


def _vm_status(key):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1]) * 1024
    return None
