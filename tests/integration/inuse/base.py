"""In-use migrations end to end: API, conductor, volume worker and the
compute agent with real libvirtd and QEMU guests, in one process."""

from migrator_api.db import api as db_api
from tests.functional import fixtures as sysfix
from tests.functional.flows import base as flow_base
from tests.integration import fixtures_libvirt as lv

MiB = flow_base.MiB


class InUseTestCase(flow_base.FlowTestCase):

    BPS_LIMIT = 8 * MiB
    SIZE = 16 * MiB
    # True for tests that restart libvirtd under everybody's feet.
    EXCLUSIVE = False

    def setUp(self):
        # Skip FlowTestCase.setUp's system: this one has a compute agent.
        super(flow_base.FlowTestCase, self).setUp()
        self.lv = self.useFixture(lv.LibvirtFixture(
            self.state_path, exclusive=self.EXCLUSIVE))
        self.system = self.useFixture(sysfix.System(
            self, backends=self.BACKENDS, interval=self.INTERVAL,
            bps_limit=self.BPS_LIMIT, compute=True))
        self.app = self.system.app

    def attach(self, volume, instance):
        resp = self.app.post_json('/v1/attachments', {'attachment': {
            'volume_id': volume['id'], 'instance_uuid': instance,
            'host': sysfix.HOST}}, status=202)
        att_id = resp.json['attachment']['id']
        self.system.wait_for(
            lambda: self.get_volume(volume['id'])['status'] == 'in-use',
            'volume attached')
        return self.app.get('/v1/attachments/%s' % att_id).json['attachment']

    def random_volume(self, backend='file1', size=None):
        """A volume full of random data; returns (view, model)."""
        size = size or self.SIZE
        vol = self.create_volume(size, backend)
        data = bytearray(open('/dev/urandom', 'rb').read(size))
        with open(self.path_of(vol), 'r+b') as f:
            f.write(data)
        return vol, data

    def writer(self, instance, target, model):
        dom = self.lv.domain(instance)
        writer = lv.GuestWriter(dom.name(), target, model)
        writer.phase_fn = self._phase_of_running_migration
        writer.start()
        self.addCleanup(lambda: writer.is_alive() and writer.stop())
        writer.wait_for(3)
        return writer

    @staticmethod
    def _phase_of_running_migration():
        running = [m for m in db_api.migration_get_all()
                   if m.phase != 'done']
        return running[0].phase if running else None

    def settle(self, instance):
        """Wait until the compute agent has no job running."""
        self.system.compute.driver.wait_idle(instance, 60)
