"""libvirt's block job events and QEMU's job status events, as the
benchmark's connection receives them."""

import collections
import json
import threading


class Events(object):

    def __init__(self):
        self.cond = threading.Condition()
        self._jobs = collections.defaultdict(list)  # (uuid, disk) -> statuses
        self._qemu = []         # (QEMU's wall time, uuid, status)

    def register(self, conn):
        import libvirt
        import libvirt_qemu
        conn.domainEventRegisterAny(
            None, libvirt.VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2, self._on_job, None)
        libvirt_qemu.qemuMonitorEventRegister(
            conn, None, 'JOB_STATUS_CHANGE', self._on_qemu_event, None)

    def _on_job(self, conn, dom, disk, job_type, status, opaque):
        with self.cond:
            self._jobs[(dom.UUIDString(), disk)].append(status)
            self.cond.notify_all()

    def _on_qemu_event(self, conn, dom, event, seconds, micros, details,
                       opaque):
        try:
            status = json.loads(details).get('status')
        except (TypeError, ValueError):
            return
        with self.cond:
            self._qemu.append((seconds + micros / 1e6, dom.UUIDString(),
                               status))

    def forget_jobs(self, uuid, disk):
        with self.cond:
            self._jobs.pop((uuid, disk), None)

    def job_statuses(self, uuid, disk):
        with self.cond:
            return list(self._jobs.get((uuid, disk), ()))

    def wait(self, timeout):
        with self.cond:
            self.cond.wait(timeout)

    def qemu_pivots(self, holds, uuid):
        """For each pivot call: how long QEMU took from the job's last
        ``ready`` before the pivot to ``concluded`` (its JOB_STATUS_CHANGE
        events, QEMU's own clock): the part of the call in which QEMU
        completes the job, the guest's I/O drained for the switch."""
        with self.cond:
            events = [(t, st) for t, u, st in self._qemu if u == uuid]
        for c in holds:
            if not c['label'].endswith('pivot') or not c['ok']:
                continue
            window = [(t, st) for t, st in events
                      if c['wall0'] - 0.5 <= t <= c['wall1'] + 0.05]
            done = [t for t, st in window
                    if st == 'concluded' and t >= c['wall0'] - 0.005]
            if not done:
                continue
            ready = [t for t, st in window if st == 'ready' and t <= done[0]]
            if ready:
                c['qemu_seconds'] = done[0] - max(ready[-1], c['wall0'])
