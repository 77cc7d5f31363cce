"""The per-compute-host limit: migrations of attached volumes on one
compute host run one at a time (``max_concurrent_live_migrations``),
beside migrations of detached volumes.

The compute agent is the real manager (RPC endpoint, journal, reports
to the conductor) over a test driver of shut-off guests: the data path
is the real one (file backends, the real volume worker), every byte
compared.  The real libvirt flows are tested in tests/integration.
"""

import threading

from migrator_api.common import rpc
from migrator_api.common import service
from migrator_api.common import threads
from migrator_api.db import api as db_api
from migrator_compute.drivers import base as driver_base
from migrator_compute import manager as compute_manager
from tests.functional import fixtures as sysfix
from tests.functional.flows import test_queue

MiB = test_queue.MiB


class ShutOffGuests(driver_base.ComputeDriver):
    """Guests that stay shut off: a frozen one is simply not started.
    Counts the migrations in progress (from start to the end of the
    asynchronous complete) and the most seen at once."""

    def __init__(self):
        self.disks = {}
        self.busy = set()
        self.most_busy = 0
        self._guard = threading.Lock()

    def get_instance(self, instance_uuid):
        return {'uuid': instance_uuid, 'name': instance_uuid,
                'power_state': 'shutoff'}

    def attach_volume(self, instance_uuid, attachment_id, connection_info):
        self.disks[attachment_id] = connection_info
        return {'target': 'vdb'}

    def detach_volume(self, instance_uuid, attachment_id):
        self.disks.pop(attachment_id, None)

    def migration_start(self, instance_uuid, attachment_id,
                        migration_id=None):
        with self._guard:
            self.busy.add(attachment_id)
            self.most_busy = max(self.most_busy, len(self.busy))
        return {'mode': 'offline'}

    def _end(self, attachment_id, on_done):
        with self._guard:
            self.busy.discard(attachment_id)
        if on_done is not None:
            threads.spawn('fake-compute-end', on_done, None)

    def migration_cancel(self, instance_uuid, attachment_id, on_done=None):
        self._end(attachment_id, on_done)

    def migration_complete(self, instance_uuid, src_attachment_id,
                           dst_attachment_id, dst_connection_info,
                           on_done=None):
        self.disks.pop(src_attachment_id, None)
        self.disks[dst_attachment_id] = dst_connection_info
        self._end(src_attachment_id, on_done)
        return {'target': 'vdb'}

    def recover(self):
        return []

    def is_busy(self, instance_uuid):
        return False


class TestComputeHostLimit(test_queue._QueueTestCase):

    LIMITS = {'max_concurrent_live_migrations': 1}

    def setUp(self):
        super().setUp()
        self.driver = ShutOffGuests()
        agent = compute_manager.ComputeManager(
            host=sysfix.HOST, conf=self.conf, driver=self.driver)
        self.system._start(service.Service(rpc.COMPUTE_TOPIC, sysfix.HOST,
                                           agent, report_interval=1))
        self.system.wait_for(
            lambda: db_api.service_get(sysfix.HOST, 'migrator-compute'),
            'compute agent reported')

    def attach(self, volume, instance):
        att = self.app.post_json('/v1/attachments', {'attachment': {
            'volume_id': volume['id'], 'instance_uuid': instance,
            'host': sysfix.HOST}}, status=202).json['attachment']
        self.system.wait_for(
            lambda: self.app.get('/v1/attachments/%s' % att['id']).json[
                'attachment']['status'] == 'attached', 'attached')

    def test_attached_volumes_of_one_host_one_at_a_time(self):
        vols = self.volumes_with_data(['file1'] * 3, seed=100)
        self.attach(vols[0][0], '11111111-1111-4111-8111-111111111111')
        self.attach(vols[1][0], '22222222-2222-4222-8222-222222222222')
        a, b, c = [self.migrate(vol['id'], 'file2') for vol, _ in vols]
        self.system.wait_for(
            lambda: self.get_migration(b['id'])['status'] == 'queued' and
            self.get_migration(a['id'])['status'] != 'queued',
            'the second attached volume queued behind the first')
        self.finish_all([a, b, c])
        ra, rb, rc = [db_api.migration_get(m['id']) for m in (a, b, c)]
        # The slot is held until the compute agent's end (fold-in).
        self.assertGreaterEqual(rb.started_at, ra.finished_at)
        # A detached volume takes no compute host slot.
        self.assertLess(rc.started_at, ra.finished_at)
        self.assertEqual(1, self.driver.most_busy)
        self.assert_moved(vols, ['file2'] * 3)
        for vol, _ in vols[:2]:
            after = self.get_volume(vol['id'])
            self.assertEqual('in-use', after['status'])
            self.assertIn(after['location'], list(self.driver.disks.values()))
