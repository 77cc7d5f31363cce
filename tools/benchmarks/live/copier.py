"""The copy of the frozen source, in a process of its own."""

import collections
import multiprocessing
import signal
import threading
import time

from benchmarks import common


def _copy_worker_main(pipe):
    """A process that runs the volume worker's copier on request, as
    the volume worker does in its own process: the copy's threads do not
    compete with the guest writer and the driver for this process's
    GIL."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # the parent decides
    errors = collections.Counter()

    def excepthook(hook_args):
        errors['%s: %s' % (hook_args.exc_type.__name__,
                           hook_args.exc_value)] += 1
    threading.excepthook = excepthook
    from migrator_volume import copy as mcopy
    conf = common.migrator_conf()
    while True:
        job = pipe.recv()
        if job is None:
            return
        src, dst, size = job
        errors.clear()
        try:
            copier = mcopy.make_copier(src, dst, size, conf,
                                       dst_zeroed=True, label='bench')
            t0 = time.perf_counter()
            copier.run()
            pipe.send({'ok': True, 'seconds': time.perf_counter() - t0,
                       'copier': type(copier).__name__,
                       'thread_errors': dict(errors)})
        except Exception as e:
            pipe.send({'ok': False, 'error': '%s: %s'
                       % (type(e).__name__, e)})


class CopyWorker(object):

    def __init__(self):
        ctx = multiprocessing.get_context('spawn')
        self.pipe, child = ctx.Pipe()
        self.proc = ctx.Process(target=_copy_worker_main, args=(child,),
                                name='bench-copier', daemon=True)
        self.proc.start()
        child.close()

    def copy(self, src, dst, size):
        self.pipe.send((src, dst, size))
        reply = self.pipe.recv()
        if not reply['ok']:
            raise common.BenchError('the copy failed: %s' % reply['error'])
        return reply

    def stop(self):
        try:
            self.pipe.send(None)
        except OSError:
            pass
        self.proc.join(10)
        if self.proc.is_alive():
            self.proc.terminate()       # our own child, by its handle
            self.proc.join(10)
