"""The compute driver interface: the compute half of the volume
migration contract, plus attach and detach.

Every call names attachments by id; paths come only from the
Cinder-shaped connection info given at attach time (or, for the
destination, at complete time): see migrator_api.rpcapi.payloads.  An
``nbd`` location (a volume of another host) has no local path: the
driver reaches it its own way (the libvirt drivers: a bridge,
``drivers/libvirt/bridges.py``).

Drivers are thread-safe: the agent's RPC manager calls them from the
threads of oslo.messaging's threading executor.

The agent loads the driver named by ``[compute] driver`` from the
``migrator.compute.drivers`` entry points (setup.cfg): this module
knows no concrete driver.
"""

import abc
import os

from stevedore import driver as stevedore_driver
from stevedore import exception as stevedore_exception

from migrator_api.common import exception

NAMESPACE = 'migrator.compute.drivers'


def path_key(path):
    """What tells two volume paths apart: the real path of a local one
    (a file, a device, a socket); other names (``nbd://host:port/export``
    of a disk that names a remote export) as they are."""
    return os.path.realpath(path) if path.startswith('/') else path


def same_path(a, b):
    return path_key(a) == path_key(b)


class ComputeDriver(metaclass=abc.ABCMeta):
    """What the compute agent's manager calls."""

    #: True when the driver moves a running guest's writes aside
    #: (live block jobs); False for the offline-only behaviour.
    supports_live_migration = False

    @abc.abstractmethod
    def get_instance(self, instance_uuid):
        """``{'uuid', 'name', 'power_state'}`` of an instance of this
        host (power_state: ``running``, ``paused``, ``shutdown``,
        ``shutoff``, ``crashed``, ``suspended`` or ``nostate``/
        ``unknown``); raises ``InstanceNotFound``."""

    @abc.abstractmethod
    def attach_volume(self, instance_uuid, attachment_id, connection_info):
        """Attach the volume to the instance; returns
        ``{'target': 'sdb', ...}`` (the guest-visible device)."""

    @abc.abstractmethod
    def detach_volume(self, instance_uuid, attachment_id):
        """Detach the attachment.  Refused while it is migrating."""

    @abc.abstractmethod
    def migration_start(self, instance_uuid, attachment_id,
                        migration_id=None):
        """Synchronous.  When it returns, nothing writes to the source
        volume of ``attachment_id`` until cancel or complete.  Raises
        ``InstanceNotFreezable`` when that cannot be guaranteed (also
        when the overlays lack room) and ``MultiAttachRefused`` when the
        source is also attached elsewhere on this host.
        ``migration_id``: the conductor's, whom the driver reports the
        size of the guest's overlay to (``set_overlay_reporter``)."""

    @abc.abstractmethod
    def migration_cancel(self, instance_uuid, attachment_id, on_done=None):
        """Asynchronous.  Returns at once; the source becomes writable
        again (rolled back in a thread, which then calls
        ``on_done(error_or_None)``).  A later complete fails."""

    @abc.abstractmethod
    def migration_complete(self, instance_uuid, src_attachment_id,
                           dst_attachment_id, dst_connection_info,
                           on_done=None):
        """Returns once the source is no longer referenced (it can be
        released).  The rest (fold-in, configuration) continues
        asynchronously, then ``on_done(error_or_None)`` is called.
        From then on the disk belongs to ``dst_attachment_id``.
        Idempotent: repeating a complete that already switched
        succeeds."""

    @abc.abstractmethod
    def recover(self):
        """At agent start: finish or roll back whatever the journal
        shows was under way.  Returns a list of ``(attachment_id,
        outcome)``."""

    @abc.abstractmethod
    def is_busy(self, instance_uuid):
        """True while any attachment of the instance is migrating or a
        background step (rollback, fold-in) still runs: instance
        operations must stay locked."""

    def migration_state(self, attachment_id):
        """The journal step of the attachment's migration, or None."""
        return None

    def attachment(self, attachment_id):
        """The journal record of the attachment (``instance_uuid``,
        ``target``, ``connection_info``, ``migration``, and
        ``migrated_from`` when a migration made it), or None."""
        journal = getattr(self, 'journal', None)
        return None if journal is None else journal.load(attachment_id)

    def wait_idle(self, instance_uuid, timeout=None):
        """Wait until ``is_busy`` is False or ``timeout``; returns
        whether it is idle.  Helper for the manager and tests."""
        return not self.is_busy(instance_uuid)

    def set_overlay_reporter(self, reporter):
        """``reporter(migration_id, overlay_bytes, error=None)`` is then
        called with the size of each frozen guest's overlay, and with
        ``error`` once the driver gave a migration up (the guest is back
        on its source).  Drivers without overlays never call it."""

    def cleanup(self):
        """Release connections and threads (agent shutdown)."""


def _reraise(manager, entrypoint, error):
    raise error


def load_driver(conf):
    """The driver named by ``[compute] driver``, made with ``conf``."""
    name = conf.compute.driver
    try:
        manager = stevedore_driver.DriverManager(
            NAMESPACE, name, invoke_on_load=True, invoke_args=(conf,),
            on_load_failure_callback=_reraise)
    except stevedore_exception.NoMatches:
        known = stevedore_driver.ExtensionManager(NAMESPACE).names()
        raise exception.InvalidInput(
            reason='unknown compute driver %r (known: %s)'
                   % (name, ', '.join(sorted(known)) or 'none'))
    return manager.driver
