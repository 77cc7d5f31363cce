"""Which flow takes each step of a migration.

============  ==========================================================
``live``      the domain runs (``live.py``): freeze onto an overlay,
              shallow copy onto DST and pivot, active commits.
``offline``   the domain was shut off at start (``offline.py``): the
              lock alone.
``cold``      a live migration whose domain is no longer running
              (``cold.py``): qemu-img under the lock.
``ending``    the fold-in and the rollback of all three (``ending.py``).
============  ==========================================================

A step that fails half-way is settled here: a switch that stopped
before its pivot goes back to frozen (complete may be repeated, or
cancel; an nbd destination's bridge is stopped), one whose pivot
happened goes on as switched (an nbd source's bridge is stopped); a
start that failed is rolled back.
"""

from oslo_log import log as logging

from migrator_api.common import exception
from migrator_compute.drivers.libvirt import cold
from migrator_compute.drivers.libvirt import ending
from migrator_compute.drivers.libvirt import images
from migrator_compute.drivers.libvirt import live
from migrator_compute.drivers.libvirt import lock as lock_mod
from migrator_compute.drivers.libvirt import offline
from migrator_compute.journal import Mode
from migrator_compute.journal import Step

LOG = logging.getLogger(__name__)

#: What complete adds to a frozen migration (``back_to_frozen`` drops).
_DESTINATION_KEYS = ('overlay2', 'dst_attachment_id', 'dst_connection_info',
                     'destination', 'destination_kind', 'fold_image',
                     'dst_bridge')


class Flows(object):
    """The flows of one driver.  ``live_migration``: False on a host
    that migrates shut-off domains only."""

    def __init__(self, ctx, lock, live_migration=True):
        self.ctx = ctx
        self.live_migration = live_migration
        self.live = live.LiveFlow(ctx, lock)
        self.offline = offline.OfflineFlow(ctx, lock)
        self.cold = cold.ColdFlow(ctx, lock)
        self.ending = ending.Endings(ctx, lock, self.live, self.cold)
        self._resolvers = {
            Step.COMPLETE_OFFLINE: self.offline,
            Step.COMPLETE_COLD_LOCK: self.cold,
            Step.COMPLETE_COLD_REBASE: self.cold}

    def start(self, record, kind, src):
        """Freeze (running domain) or lock (shut off) the source."""
        uuid = record['instance_uuid']
        if self.ctx.host.domain(uuid).isActive():
            return self._start_live(record, kind, src)
        try:
            self.offline.start(record, kind, src)
        except lock_mod.DomainStarted:
            LOG.info('%s started while being locked; freezing it live',
                     uuid)
            self._start_live(record, kind, src)

    def _start_live(self, record, kind, src):
        if not self.live_migration:
            raise exception.InstanceNotFreezable(
                instance=record['instance_uuid'],
                reason='it is running, and this host migrates shut-off '
                       'instances only')
        try:
            self.live.start(record, kind, src)
        except exception.InstanceNotFreezable:
            if record['migration'] is not None:
                self._abandon_start(record)
            raise

    def _abandon_start(self, record):
        """Start failed: put everything back the way it was."""
        try:
            self.ending.rollback(record)
        except Exception:
            LOG.exception('Rolling back the failed start of %s failed; '
                          'recovery will retry', record['attachment_id'])

    def switch(self, record, dst):
        """Complete's synchronous part: when it returns, the domain no
        longer references the source (``dst``: the destination fields
        of the journal)."""
        mig = record['migration']
        if mig['mode'] == Mode.OFFLINE:
            flow = self.offline
        elif self.ctx.is_active(record['instance_uuid']):
            flow = self.live
        else:
            flow = self.cold
        try:
            flow.switch(record, dst)
        except Exception as e:
            self.resolve_switch(record, pivot_failed=True)
            if Step.of(mig) is not Step.SWITCHED:
                if isinstance(e, exception.MigratorException):
                    raise
                raise self.ctx.error(str(e))
        # The source is released: so is its bridge (an nbd source).
        self.ctx.bridges.settle(record, strict=False)

    def resolve_switch(self, record, pivot_failed=False):
        """Settle a complete that stopped half-way: SWITCHED when the
        domain already left the source, FROZEN otherwise.
        ``pivot_failed``: this agent saw its pivot (if it got that far)
        fail."""
        flow = self._resolvers.get(Step.of(record['migration']), self.live)
        if not flow.resolve_switch(record, pivot_failed):
            self._back_to_frozen(record)
        self.ctx.bridges.settle(record, strict=False)

    def _back_to_frozen(self, record):
        mig = record['migration']
        if mig.get('dst_bridge'):
            self.ctx.bridges.stop(mig['dst_bridge'])
        images.remove(mig.get('overlay2'))
        for key in _DESTINATION_KEYS:
            mig.pop(key, None)
        self.ctx.step(record, Step.FROZEN)
