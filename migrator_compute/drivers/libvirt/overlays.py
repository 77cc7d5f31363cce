"""The room the overlays take on the compute host.

While a running guest is frozen its writes go to a local qcow2 overlay
(``[compute] overlay_path``), which grows with every new cluster the
guest writes until the fold-in or the rollback.  Three guards keep it
from filling the host:

before the freeze  ``check_room``: the overlay filesystem must have
                   free ``overlay_reserve_ratio`` of the volume's size
                   plus ``overlay_reserve_min_mb``; otherwise the start
                   is refused (InstanceNotFreezable, a 409) before
                   anything is recorded or frozen.
while frozen       ``Watch``: one thread per driver measures, every
                   ``overlay_report_interval`` seconds, the space each
                   frozen overlay takes on disk (its allocated blocks:
                   what it costs the host, read with one ``stat``) and
                   hands it to the driver's ``overlay_reporter`` (the
                   agent casts it to the conductor).
past the cap       the overlay over ``overlay_max_mb`` /
                   ``overlay_max_ratio`` of its volume, or its
                   filesystem under ``overlay_reserve_min_mb`` free:
                   the agent gives the migration up itself.  The
                   journal records why (``gave_up``) with the step
                   ``cancel:requested``, the one rollback routine
                   (``ending.py``) folds the overlay back into the
                   source, and the reason is reported once the guest
                   is back on its source -- also after a restart of the
                   agent, from ``last_migration['gave_up']``.
"""

import dataclasses
import os
import threading

from oslo_log import log as logging

from migrator_api.common import exception
from migrator_compute.journal import Mode
from migrator_compute.journal import Step

LOG = logging.getLogger(__name__)

MiB = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Limits(object):
    """The ``[compute]`` overlay options, in bytes."""
    reserve_ratio: float = 0.1
    reserve_min: int = 64 * MiB
    max_bytes: int = 0
    max_ratio: float = 0.0
    interval: float = 5.0

    @classmethod
    def from_conf(cls, c):
        return cls(c.overlay_reserve_ratio, c.overlay_reserve_min_mb * MiB,
                   c.overlay_max_mb * MiB, c.overlay_max_ratio,
                   c.overlay_report_interval)

    def reserve(self, volume_size):
        """Free bytes needed on the overlay filesystem to freeze a volume
        of ``volume_size`` bytes."""
        return int(volume_size * self.reserve_ratio) + self.reserve_min

    def cap(self, volume_size):
        """The most an overlay of the volume may take, or None."""
        caps = [c for c in (self.max_bytes,
                            int(volume_size * self.max_ratio)) if c > 0]
        return min(caps) if caps else None

    def over(self, allocated, volume_size, free):
        """Why an overlay of ``allocated`` bytes must be given up (its
        filesystem has ``free`` bytes left), or None."""
        cap = self.cap(volume_size)
        if cap is not None and allocated > cap:
            return 'the overlay reached %d bytes, over the cap of %d' % (
                allocated, cap)
        if self.reserve_min and free < self.reserve_min:
            return ('the overlay reached %d bytes and its filesystem has '
                    '%d bytes free, under the %d of overlay_reserve_min_mb'
                    % (allocated, free, self.reserve_min))
        return None


def free_bytes(path):
    """Bytes an unprivileged writer may still use on ``path``'s
    filesystem."""
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def allocated_bytes(path):
    """Bytes ``path`` takes on disk (0 when it does not exist)."""
    try:
        return os.stat(path).st_blocks * 512
    except (FileNotFoundError, TypeError):
        return 0


def check_room(instance_uuid, directory, volume_size, limits):
    """Refuse (InstanceNotFreezable) to freeze a volume of
    ``volume_size`` bytes when ``directory`` lacks the room."""
    need = limits.reserve(volume_size)
    if need <= 0:
        return
    free = free_bytes(directory)
    if free < need:
        raise exception.InstanceNotFreezable(
            instance=instance_uuid,
            reason='the overlay directory %s has %d bytes free; freezing '
                   'a volume of %d bytes needs %d (overlay_reserve_ratio '
                   '%g of the volume plus overlay_reserve_min_mb %d MiB)'
                   % (directory, free, volume_size, need,
                      limits.reserve_ratio, limits.reserve_min // MiB))


class Watch(object):
    """The overlay watch of one driver (``ctx``: its Context, whose
    ``limits`` apply).  ``give_up(record, reason, overlay_bytes)``: roll
    the frozen ``record`` back (the driver's); ``reporter``: what the
    sizes and the ends are handed to (set by the agent:
    ``fn(migration_id, overlay_bytes, error=None)``)."""

    def __init__(self, ctx, give_up):
        self.ctx, self.give_up = ctx, give_up
        self.reporter = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = None
        self._guard = threading.Lock()
        #: attachment ids being given up (their rollback runs).
        self.giving_up = set()

    def start(self):
        """Start the thread (again after stop); wake it when it runs."""
        with self._guard:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(
                    target=self._run, daemon=True, name='overlay-watch')
                self._thread.start()
        self._wake.set()

    def stop(self):
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(10)

    def _run(self):
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.tick()
            except Exception:
                LOG.exception('Measuring the overlays failed')
            self._wake.wait(self.ctx.limits.interval)

    def tick(self):
        """One pass: measure and report every frozen overlay, give up
        those past the cap, report the ends still owed."""
        for record in self.ctx.journal.records():
            mig = record.get('migration')
            if mig:
                self._measure(record, mig)
            elif (record.get('last_migration') or {}).get('gave_up'):
                self._report_end(record)

    def _measure(self, record, mig):
        aid = record['attachment_id']
        try:
            frozen = Step.of(mig) is Step.FROZEN
        except ValueError:
            return
        if not frozen or mig.get('mode') != Mode.LIVE or \
                aid in self.giving_up:
            return
        size = allocated_bytes(mig.get('overlay'))
        mig_id = mig.get('migration_id')
        if mig_id:
            self.report(mig_id, size)
        reason = self.ctx.limits.over(size, mig.get('size') or 0,
                                      free_bytes(self.ctx.overlay_path))
        if reason:
            LOG.warning('Attachment %s of %s: %s; rolling the guest back '
                        'onto its source', aid, record['instance_uuid'],
                        reason)
            with self._guard:
                self.giving_up.add(aid)
            self.give_up(record, reason, size)

    def report(self, migration_id, overlay_bytes, error=None):
        reporter = self.reporter
        if reporter is None:
            return False
        try:
            reporter(migration_id, overlay_bytes, error)
            return True
        except Exception:
            LOG.exception('Cannot report the overlay of migration %s',
                          migration_id)
            return False

    def _report_end(self, record):
        """The guest is back on its source: tell why, once."""
        aid = record['attachment_id']
        with self.ctx.attachment_lock(aid):
            record = self.ctx.journal.load(aid)
            last = (record or {}).get('last_migration') or {}
            gave_up = last.get('gave_up')
            if record is None or record.get('migration') or not gave_up or \
                    gave_up.get('reported'):
                return
            if gave_up.get('migration_id') and not self.report(
                    gave_up['migration_id'], gave_up['overlay_bytes'],
                    gave_up['reason']):
                return
            gave_up['reported'] = True
            self.ctx.journal.save(record)
        LOG.info('Attachment %s: reported that its migration %s was given '
                 'up (%s)', aid, gave_up.get('migration_id'),
                 gave_up['reason'])

    def ended(self, attachment_id):
        """The rollback of a given-up attachment ended (or failed)."""
        with self._guard:
            self.giving_up.discard(attachment_id)
        self._wake.set()
