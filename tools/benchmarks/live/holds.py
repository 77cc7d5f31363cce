"""What holds guest I/O: timing around the driver's libvirt calls."""

import contextlib
import threading
import time


class HoldTimer(object):
    """Wraps ``virDomain.snapshotCreateXML`` and ``virDomain.blockJobAbort``
    (with PIVOT) in this process, so that every call the driver (or the
    mirror baseline) makes is timed.  The driver is not changed."""

    def __init__(self):
        self.calls = []
        self.tls = threading.local()
        self._lock = threading.Lock()
        self._orig = None

    def install(self):
        import libvirt
        cls = libvirt.virDomain
        snap, abort = cls.snapshotCreateXML, cls.blockJobAbort
        self._orig = (snap, abort)
        timer = self
        pivot_flag = libvirt.VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT
        kinds = {libvirt.VIR_DOMAIN_BLOCK_JOB_TYPE_COPY: 'copy_pivot',
                 libvirt.VIR_DOMAIN_BLOCK_JOB_TYPE_ACTIVE_COMMIT:
                 'fold_pivot'}

        def snapshotCreateXML(dom, xmlDesc, flags=0):
            return timer._timed('freeze', snap, dom, xmlDesc, flags)

        def blockJobAbort(dom, disk, flags=0):
            if not flags & pivot_flag:
                return abort(dom, disk, flags)
            label = getattr(timer.tls, 'label', None)
            if label is None:
                try:
                    info = dom.blockJobInfo(disk, 0) or {}
                except libvirt.libvirtError:
                    info = {}
                label = kinds.get(info.get('type'), 'other_pivot')
            return timer._timed(label, abort, dom, disk, flags)

        cls.snapshotCreateXML = snapshotCreateXML
        cls.blockJobAbort = blockJobAbort

    def uninstall(self):
        if self._orig:
            import libvirt
            libvirt.virDomain.snapshotCreateXML = self._orig[0]
            libvirt.virDomain.blockJobAbort = self._orig[1]
            self._orig = None

    def _timed(self, label, fn, *args):
        wall = time.time()
        t0 = time.perf_counter()
        ok = False
        try:
            result = fn(*args)
            ok = True
            return result
        finally:
            t1 = time.perf_counter()
            with self._lock:
                self.calls.append({'label': label, 't0': t0, 't1': t1,
                                   'wall0': wall, 'wall1': wall + t1 - t0,
                                   'seconds': t1 - t0, 'ok': ok})

    def mark(self):
        with self._lock:
            return len(self.calls)

    def since(self, mark):
        with self._lock:
            return list(self.calls[mark:])

    @contextlib.contextmanager
    def label(self, name):
        old = getattr(self.tls, 'label', None)
        self.tls.label = name
        try:
            yield
        finally:
            self.tls.label = old
