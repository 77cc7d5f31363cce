"""The flow of a domain that is shut off at start.

start     lock the domain (``lock.py``): its persistent definition
          names a path that never exists, so libvirt refuses to start
          it until the migration ends.  No data moves on this host.
switch    (complete) record the destination (and connect to an nbd
          one: ``bridges.py``); the fold-in
          (``ending.py``) then defines the disk on DST, which unlocks
          the domain.  The rollback defines it on SRC again.
"""

from oslo_log import log as logging

from migrator_compute.drivers.libvirt import context
from migrator_compute.drivers.libvirt import guest
from migrator_compute.drivers.libvirt import lock as lock_mod
from migrator_compute.journal import Mode
from migrator_compute.journal import Step

LOG = logging.getLogger(__name__)


class OfflineFlow(context.Flow):

    def start(self, record, kind, src):
        """Lock the stopped domain.  Raises DomainStarted (the record
        left as it was) when the domain started meanwhile."""
        uuid = record['instance_uuid']
        disk = self.ctx.source_disk(record, self.ctx.persistent_root(uuid),
                                    src, 'domain definition')
        record['migration'] = {
            'mode': Mode.OFFLINE, 'step': None, 'source': src,
            'source_kind': kind, 'persistent_disk': guest.tostring(disk)}
        self.ctx.step(record, Step.OFFLINE_LOCK)
        try:
            self.lock.lock_stopped(record)
        except lock_mod.DomainStarted:
            record['migration'] = None
            self.ctx.journal.save(record)
            raise
        self.ctx.step(record, Step.OFFLINE_LOCKED)
        LOG.info('Stopped domain %s locked for the migration of %s',
                 uuid, record['attachment_id'])

    def switch(self, record, dst):
        self.ctx.step(record, Step.COMPLETE_OFFLINE, **dst)
        self.ctx.connect_destination(record)
        self.ctx.step(record, Step.SWITCHED)

    def resolve_switch(self, record, pivot_failed=False):
        """Nothing happened but the journal writes (and the start of an
        nbd destination's bridge): go on, unless this agent saw the switch
        fail (``pivot_failed``: the destination could not be reached)."""
        if pivot_failed:
            return False
        self.ctx.step(record, Step.SWITCHED)
        return True
