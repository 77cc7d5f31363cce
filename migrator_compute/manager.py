"""The compute agent's RPC endpoint (see migrator_compute.rpcapi).

Thin: each call maps to one driver call.  What the manager adds is the
conductor's side of the asynchronous ends: cancel and complete pass the
driver an ``on_done`` callback that casts
``ConductorAPI.compute_migration_finished(migration_id, operation,
error)``; and the driver's overlay reporter, which casts
``ConductorAPI.overlay_progress(migration_id, overlay_bytes, error)``
(1.1) and sends ``volume.migration.overlay`` notifications
(``notifications.py``): the size of a frozen guest's overlay, and the
end of a migration the driver gave up because its overlay went past
the cap (``drivers/libvirt/overlays.py``).

Migration ids survive restarts.  Before handing a cancel or complete to
the driver, the manager durably records ``{attachment_id, operation,
migration_id, instance_uuid, dst_attachment_id}`` in
``<journal_path>/migrations/<operation>.<attachment_id>.json`` (the
driver journal's atomic writes); the record goes once its end was
reported.  After a restart, ``init_host`` lets the driver finish or roll
back what it had under way (``driver.recover()``), then settles each
remaining record from the driver's journal:

* complete, and the disk now belongs to the destination attachment:
  reported as finished;
* cancel, and the source attachment is no longer migrating: reported
  as finished;
* cancel, but the rollback had not begun (the source is still frozen):
  the cast was accepted, so the cancel runs now and reports its end;
* complete, but the switch had not happened (still frozen): reported
  as failed, the migration stays frozen for a new complete or a cancel;
* anything still half-done (recovery failed): reported as failed, and
  the record is kept so that a later recovery reports the real end.
"""

import functools
import os
import threading

from oslo_config import cfg
from oslo_log import log as logging
import oslo_messaging as messaging

from migrator_api.common import context
from migrator_api.common import exception
from migrator_api.common import states
from migrator_api.rpcapi import conductor as conductor_rpcapi
from migrator_compute.drivers import base as driver_base
from migrator_compute import journal
from migrator_compute import notifications

LOG = logging.getLogger(__name__)

COMPLETE = 'complete'
CANCEL = 'cancel'


def _frozen(migration):
    """Whether the driver's migration waits for cancel or complete."""
    try:
        return journal.Step.of(migration) in journal.FROZEN_STEPS
    except journal.UnknownStep:     # written by another version
        return False


def _wrap(fn):
    """Errors reach the caller as migrator exceptions: those of the
    driver unchanged, anything else as a ComputeError of this host.
    Refusals (not found, invalid, conflict) are the caller's business:
    oslo.messaging logs them at debug level only."""
    @functools.wraps(fn)
    @messaging.expected_exceptions(exception.NotFound, exception.Invalid,
                                   exception.Conflict)
    def wrapper(self, *args, **kwargs):
        try:
            return fn(self, *args, **kwargs)
        except exception.MigratorException:
            raise
        except ValueError as e:
            raise exception.InvalidInput(reason=str(e))
        except Exception as e:
            LOG.exception('%s failed', fn.__name__)
            raise exception.ComputeError(host=self.host,
                                         reason=exception.describe(e))
    return wrapper


class ComputeManager:
    target = messaging.Target(version='1.1')

    def __init__(self, host=None, conf=None, driver=None):
        """:param driver: a compute driver; loaded from ``[compute]
        driver`` by init_host() when not given."""
        self.conf = conf or cfg.CONF
        self.host = host or self.conf.host
        self.driver = driver
        self.migrations = None
        self._conductor = None
        self._notifier = None
        self._stopping = threading.Event()

    @property
    def notifier(self):
        if self._notifier is None:
            self._notifier = notifications.ComputeNotifier(self.host)
        return self._notifier

    @property
    def conductor(self):
        if self._conductor is None:
            self._conductor = conductor_rpcapi.ConductorAPI()
        return self._conductor

    # -- service hooks ----------------------------------------------------

    def init_host(self):
        if self.driver is None:
            self.driver = driver_base.load_driver(self.conf)
        self.migrations = journal.Journal(
            os.path.join(self.conf.compute.journal_path, 'migrations'),
            key='key')
        self.driver.set_overlay_reporter(self._overlay_report)
        outcomes = dict(self.driver.recover())
        ctxt = context.get_admin_context()
        for entry in self.migrations.records():
            try:
                self._settle(ctxt, entry, outcomes.get(entry['attachment_id']))
            except Exception:
                LOG.exception('Cannot settle the %s of migration %s',
                              entry['operation'], entry['migration_id'])
        LOG.info('Compute agent %s ready (%s driver; recovered: %s)',
                 self.host, type(self.driver).__name__,
                 ', '.join('%s %s' % o for o in sorted(outcomes.items())
                           if o[1] != 'attached') or 'nothing')

    def cleanup_host(self):
        # A fold-in or rollback cut short by the shutdown is no failure:
        # the next start's recovery finishes it and reports its end.
        self._stopping.set()
        if self.driver is not None:
            self.driver.cleanup()

    def report_state(self):
        self.conductor.report_state(context.get_admin_context(), self.host,
                                    states.BINARY_COMPUTE)

    # -- RPC API 1.0 ------------------------------------------------------

    @_wrap
    def get_instance(self, ctxt, instance_uuid):
        return self.driver.get_instance(instance_uuid)

    @_wrap
    def attach_volume(self, ctxt, instance_uuid, attachment_id,
                      connection_info):
        return self.driver.attach_volume(instance_uuid, attachment_id,
                                         connection_info)

    @_wrap
    def detach_volume(self, ctxt, instance_uuid, attachment_id):
        self.driver.detach_volume(instance_uuid, attachment_id)

    @_wrap
    def volume_migration_start(self, ctxt, instance_uuid, attachment_id,
                               migration_id=None):
        # (migration_id: RPC 1.1.)
        return self.driver.migration_start(instance_uuid, attachment_id,
                                           migration_id=migration_id)

    def volume_migration_cancel(self, ctxt, instance_uuid, attachment_id,
                                migration_id):
        """A cast: a refusal is reported, not raised."""
        entry = self._entry(CANCEL, attachment_id, migration_id,
                            instance_uuid)
        try:
            self.migrations.save(entry)
            self.driver.migration_cancel(instance_uuid, attachment_id,
                                         on_done=self._on_done(ctxt, entry))
        except Exception as e:
            LOG.warning('Cancel of migration %s (attachment %s) refused: %s',
                        migration_id, attachment_id, exception.describe(e))
            self._finished(ctxt, entry, e)

    @_wrap
    def volume_migration_complete(self, ctxt, instance_uuid,
                                  src_attachment_id, dst_attachment_id,
                                  dst_connection_info, migration_id):
        entry = self._remember(COMPLETE, src_attachment_id, migration_id,
                               instance_uuid,
                               dst_attachment_id=dst_attachment_id)
        try:
            return self.driver.migration_complete(
                instance_uuid, src_attachment_id, dst_attachment_id,
                dst_connection_info, on_done=self._on_done(ctxt, entry))
        except Exception:
            # The caller learns of it; keep the record only while the
            # driver still holds a half-done switch that recovery settles.
            if self._settled(entry):
                self._forget(entry)
            raise

    # -- the overlays ----------------------------------------------------

    def _overlay_report(self, migration_id, overlay_bytes, error=None):
        """The driver's overlay watch: a frozen guest's overlay size, or
        (``error``) why the driver gave the migration up."""
        ctxt = context.get_admin_context()
        self.notifier.overlay(ctxt, migration_id, overlay_bytes, error)
        if self.conductor.can_send_version('1.1'):
            self.conductor.overlay_progress(ctxt, migration_id,
                                            overlay_bytes, error)
        elif error is not None:
            # A conductor of 1.0 hears of it as a failed rollback.
            self.conductor.compute_migration_finished(ctxt, migration_id,
                                                      CANCEL, error)

    # -- migration ids ----------------------------------------------------

    @staticmethod
    def _entry(operation, attachment_id, migration_id, instance_uuid,
               dst_attachment_id=None):
        return {'key': '%s.%s' % (operation, attachment_id),
                'attachment_id': attachment_id, 'operation': operation,
                'migration_id': migration_id,
                'instance_uuid': instance_uuid,
                'dst_attachment_id': dst_attachment_id}

    def _remember(self, *args, **kwargs):
        """Durably record an operation before the driver takes it."""
        return self.migrations.save(self._entry(*args, **kwargs))

    def _forget(self, entry):
        self.migrations.delete(entry['key'])

    def _settled(self, entry):
        """Whether the driver is done with the attachment's migration
        step: nothing half-done is left that a recovery would finish."""
        try:
            step = self.driver.migration_state(entry['attachment_id'])
        except journal.UnknownStep:  # written by another version
            return False
        except ValueError:          # not even a valid attachment id
            return True
        return step is None or step in journal.FROZEN_STEPS

    def _on_done(self, ctxt, entry):
        def on_done(error):
            self._finished(ctxt, entry, error)
        return on_done

    def _finished(self, ctxt, entry, error):
        """Report the end of an operation, then drop its record (kept
        while a later recovery still has something to finish)."""
        reason = None if error is None else (
            error if isinstance(error, str) else exception.describe(error))
        if reason and self._stopping.is_set() and not self._settled(entry):
            LOG.info('Migration %s: %s of attachment %s interrupted by the '
                     'shutdown (%s); it ends after the restart',
                     entry['migration_id'], entry['operation'],
                     entry['attachment_id'], reason)
            return
        try:
            self.conductor.compute_migration_finished(
                ctxt, entry['migration_id'], entry['operation'], reason)
        except Exception:
            LOG.exception('Cannot report the end of the %s of migration %s; '
                          'reported again after a restart',
                          entry['operation'], entry['migration_id'])
            return
        LOG.info('Migration %s: %s of attachment %s finished%s',
                 entry['migration_id'], entry['operation'],
                 entry['attachment_id'],
                 ' with error: %s' % reason if reason else '')
        try:
            if error is None:
                for operation in (COMPLETE, CANCEL):
                    self.migrations.delete('%s.%s' % (
                        operation, entry['attachment_id']))
            elif self._settled(entry):
                self._forget(entry)
        except ValueError:
            pass                    # an invalid id was never recorded

    def _settle(self, ctxt, entry, outcome):
        """After recovery: report the end of an operation the previous
        run of the agent had accepted."""
        aid = entry['attachment_id']
        src = self.driver.attachment(aid)
        mig = src.get('migration') if src else None
        if entry['operation'] == COMPLETE:
            dst = self.driver.attachment(entry['dst_attachment_id'])
            if src is None and dst and dst.get('migrated_from') == aid:
                return self._finished(ctxt, entry, None)
        elif src is not None and not mig:
            return self._finished(ctxt, entry, None)
        if mig and _frozen(mig):
            if entry['operation'] == CANCEL:
                LOG.info('Migration %s: running the cancel of %s accepted '
                         'before the restart', entry['migration_id'], aid)
                return self.volume_migration_cancel(
                    ctxt, entry['instance_uuid'], aid,
                    entry['migration_id'])
            return self._finished(
                ctxt, entry, 'the compute agent restarted before the switch '
                'to the destination; the source is still frozen (complete '
                'again or cancel)')
        if mig:
            return self._finished(ctxt, entry, 'recovery of attachment %s: '
                                  '%s' % (aid, outcome or mig['step']))
        return self._finished(
            ctxt, entry, 'attachment %s is %s' % (
                aid, 'no longer migrating' if src else 'unknown to this '
                'host'))
