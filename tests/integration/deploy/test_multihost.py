"""The real multi-host deployment (tools/deploy.sh: hosts as network
namespaces, RabbitMQ, MariaDB, keystone, a libvirtd per compute host),
driven over its REST API with a keystone token, as operators drive it:

* available volumes across hosts in every backend combination
  (file and block, each way), every byte compared;
* attached volumes of a running guest across hosts: the guest on one
  compute host, its volume moved between the two volume hosts while it
  writes (the live path), and a live migration cancelled;
* a conductor killed in the middle of a migration: the other one ends it;
* a volume host's worker killed in the middle of a copy and started
  again (``deploy.sh up`` restarts what is not running): the migration
  ends in error with the source intact and nothing left, and the next
  migration succeeds.

One deployment serves the whole class (.stestr.conf runs the class in
one worker, in order).  It has its own state directory, prefix and
subnet, and tighter timeouts and a copy throttle (``up --extra-conf``)
so that the copies last long enough to be interrupted.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import testtools

from migrator_testing import guests
from tests.functional.flows import base as flows

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(REPO, 'tools'))
from deploy import client as deploy_client  # noqa: E402
from deploy import layout as deploy_layout  # noqa: E402

DEPLOY = os.path.join(REPO, 'tools', 'deploy.sh')
PREFIX, SUBNET = 'mgm', '10.75.0'
MiB = 1024 * 1024
SIZE = 24 * MiB
#: Copies run at this rate, so that a 64 MiB copy lasts some 2 s.
BPS = 32 * MiB
EXTRA_CONF = """[conductor]
service_down_time = 6
claim_timeout = 4
[volume]
report_interval = 1
migration_progress_report_interval = 1
volume_copy_bps_limit = %d
""" % BPS
#: Hang guard of every wait (never asserted as a duration).
WAIT = 180

read_all = flows.FlowTestCase.read_all
write_pattern = flows.FlowTestCase.write_pattern
path_of = flows.FlowTestCase.path_of


class Deployment:
    """tools/deploy.sh up (once), its API over a keystone session."""

    def __init__(self):
        self.state = os.path.join(REPO, 'state', 'tests', 'multihost')
        self.extra = os.path.join(REPO, 'state', 'tests',
                                  'multihost-extra.conf')
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith('OS_') and k != 'MIGRATOR_ENDPOINT'}
        self.env.update(MIGRATOR_DEPLOY_STATE=self.state,
                        MIGRATOR_DEPLOY_PREFIX=PREFIX,
                        MIGRATOR_DEPLOY_SUBNET=SUBNET)
        self.layout = deploy_layout.Layout(self.state, PREFIX, SUBNET)
        self.outputs = []

    def run(self, *args, check=True, timeout=900):
        proc = subprocess.run(['bash', DEPLOY] + list(args), env=self.env,
                              stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout)
        out = proc.stdout + proc.stderr
        self.outputs.append(('deploy %s' % ' '.join(args), out))
        if check and proc.returncode:
            raise RuntimeError('deploy.sh %s failed:\n%s' % (args, out))
        return out

    def up(self):
        os.makedirs(os.path.dirname(self.extra), exist_ok=True)
        with open(self.extra, 'w') as f:
            f.write(EXTRA_CONF)
        self.run('up', '--extra-conf', self.extra)
        self.session = deploy_client.session(self.state)
        self.endpoint = self.layout.endpoint

    def down(self):
        self.run('down', '--keep-services', check=False)

    def api(self, method, path, body=None, ok=(200, 201, 202, 204)):
        resp = self.session.request(
            self.endpoint + path, method, json=body, raise_exc=False,
            headers={'Accept': 'application/json'})
        if resp.status_code not in ok:
            raise AssertionError('%s %s: %d %s' % (
                method, path, resp.status_code, resp.text))
        return resp.json() if resp.content else None

    def record(self):
        with open(os.path.join(self.state, 'deploy.json')) as f:
            return json.load(f)

    def pid_of(self, host, service):
        return self.record()['procs']['%s/%s' % (host, service)]['pid']

    def log_of(self, host, service):
        return os.path.join(self.layout.log_dir(host), '%s.log' % service)


class MultiHostTest(testtools.TestCase):

    deployment = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.deployment = Deployment()
        try:
            cls.deployment.up()
        except Exception:
            cls.deployment.down()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.deployment is not None:
            cls.deployment.down()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.d = self.deployment
        self.addOnException(self._attach_logs)

    def _attach_logs(self, exc_info):
        for name, out in self.d.outputs[-3:]:
            self.addDetail(name, testtools.content.text_content(out))
        for directory, _dirs, files in os.walk(self.d.layout.logs):
            for name in sorted(files):
                path = os.path.join(directory, name)
                with open(path, errors='replace') as f:
                    text = ''.join(f.readlines()[-30:])
                self.addDetail(os.path.relpath(path, self.d.layout.logs),
                               testtools.content.text_content(text))

    # -- the API -------------------------------------------------------

    def create_volume(self, backend, size=SIZE):
        vol = self.d.api('POST', '/v1/volumes', {'volume': {
            'size': size, 'backend': backend}})['volume']
        return self.wait_volume(vol['id'], 'available')

    def get_volume(self, volume_id):
        return self.d.api('GET', '/v1/volumes/%s' % volume_id)['volume']

    def wait_volume(self, volume_id, status):
        return self.wait(lambda: self.get_volume(volume_id),
                         lambda v: v['status'] == status,
                         'volume %s %s' % (volume_id, status))

    def migrate(self, volume_id, backend):
        return self.d.api('POST', '/v1/migrations', {'migration': {
            'volume_id': volume_id, 'backend': backend}})['migration']

    def get_migration(self, migration_id):
        return self.d.api('GET', '/v1/migrations/%s'
                          % migration_id)['migration']

    def wait_migration(self, migration_id):
        return self.wait(lambda: self.get_migration(migration_id),
                         lambda m: m['status'] in ('success', 'error',
                                                   'cancelled'),
                         'migration %s ends' % migration_id)

    def wait_copying(self, migration_id):
        """Until the copy has moved some bytes (and is not done)."""
        return self.wait(lambda: self.get_migration(migration_id),
                         lambda m: m['bytes_done'] or m['status'] not in
                         ('queued', 'starting', 'migrating'),
                         'the copy of %s started' % migration_id, step=0.1)

    def wait(self, get, done, what, step=0.3):
        deadline = time.monotonic() + WAIT
        while True:
            value = get()
            if done(value):
                return value
            if time.monotonic() > deadline:
                self.fail('%s: still %s' % (what, value))
            time.sleep(step)

    def migrate_and_compare(self, volume_id, backend, expected):
        mig = self.wait_migration(self.migrate(volume_id, backend)['id'])
        self.assertEqual('success', mig['status'], mig)
        vol = self.get_volume(volume_id)
        self.assertEqual(backend, vol['backend'])
        self.assertSameBytes(expected, path_of(vol))
        return vol

    def assertSameBytes(self, expected, path):
        actual = read_all(path, len(expected))
        if actual != bytes(expected):
            first = next(i for i, (a, b) in enumerate(zip(actual, expected))
                         if a != b)
            self.fail('%s differs from what was written, first at byte %d'
                      % (path, first))

    def assertNoExports(self):
        """No export daemon left on any volume host."""
        dirs = [self.d.layout.host_dir(h).encode() + b'/'
                for h in deploy_layout.BACKENDS]
        self.wait(lambda: [p for p in _pids('qemu-storage-daemon')
                           if any(d in _cmdline(p) for d in dirs)],
                  lambda pids: not pids, 'no export left', step=0.5)

    # -- available volumes ---------------------------------------------

    def test_available_every_backend_combination(self):
        backends = {b['name']: b['host'] for b in
                    self.d.api('GET', '/v1/backends')['backends']}
        self.assertEqual({'vol1-file': 'vol1', 'vol1-block': 'vol1',
                          'vol2-file': 'vol2', 'vol2-block': 'vol2'},
                         backends)
        vol = self.create_volume('vol1-file')
        expected = write_pattern(path_of(vol), SIZE, seed=21,
                                 holes=[(4 * MiB, 3 * MiB)])
        # Each move is between hosts: file->block, block->block,
        # block->file, file->file.
        for backend in ('vol2-block', 'vol1-block', 'vol2-file',
                        'vol1-file'):
            vol = self.migrate_and_compare(vol['id'], backend, expected)
        # The hole stayed a hole on the last file.
        path = path_of(vol)
        self.assertLess(os.stat(path).st_blocks * 512, SIZE - 2 * MiB)
        self.assertNoExports()
        self.d.api('DELETE', '/v1/volumes/%s' % vol['id'])

    # -- attached volumes ----------------------------------------------

    def start_guest(self, host):
        uri = self.d.layout.libvirt_uri(host)
        conn = guests.open_connection(uri=uri)
        self.addCleanup(conn.close)
        instance = str(uuid.uuid4())
        name = 'mh-%s' % instance[:8]
        dom = guests.create_domain(conn, name, instance)
        self.addCleanup(_destroy, dom)
        return uri, instance, name, dom

    def attach(self, vol, instance, host):
        self.addCleanup(self.detach_and_delete, vol['id'])
        att = self.d.api('POST', '/v1/attachments', {'attachment': {
            'volume_id': vol['id'], 'instance_uuid': instance,
            'host': host}})['attachment']
        self.wait_volume(vol['id'], 'in-use')
        return self.wait(
            lambda: self.d.api('GET', '/v1/attachments/%s'
                               % att['id'])['attachment'],
            lambda a: a['device'], 'the attachment has a device')

    def detach_and_delete(self, volume_id):
        """Detach (whatever the attachment became) and delete; then no
        export may be left."""
        for att in self.get_volume(volume_id)['attachments']:
            self.d.api('DELETE', '/v1/attachments/%s' % att['id'])
        self.wait_volume(volume_id, 'available')
        self.d.api('DELETE', '/v1/volumes/%s' % volume_id)
        self.assertNoExports()

    def guest_writing(self, host, backend, size, seed, holes=()):
        """A running guest on ``host`` writing without pause to a new
        volume of ``backend`` filled with a pattern: (dom, vol, att,
        writer); the writer's ``model`` is what the volume must hold."""
        uri, instance, name, dom = self.start_guest(host)
        vol = self.create_volume(backend, size)
        model = bytearray(write_pattern(path_of(vol), size, seed=seed,
                                        holes=holes))
        att = self.attach(vol, instance, host)
        writer = guests.GuestWriter(name, att['device'], model, seed=seed,
                                    uri=uri)
        writer.start()
        self.addCleanup(writer.halt)
        writer.wait_for(5)
        return dom, vol, att, writer

    def test_live_between_volume_hosts(self):
        dom, vol, att, writer = self.guest_writing(
            'cmp1', 'vol1-file', 64 * MiB, seed=22, holes=[(0, 4 * MiB)])
        # vol1 -> vol2 while the guest on cmp1 writes (both ends on other
        # hosts than the guest), then back onto vol1's block backend.
        for backend in ('vol2-file', 'vol1-block'):
            before = writer.count
            mig = self.wait_migration(self.migrate(vol['id'],
                                                   backend)['id'])
            self.assertEqual('success', mig['status'], mig)
            self.assertEqual('cmp1', mig['compute_host'])
            writer.wait_for(5)
            self.assertGreater(writer.count, before)
        writer.stop()
        guests.guest_flush(dom, att['device'])
        vol = self.get_volume(vol['id'])
        self.assertEqual('vol1-block', vol['backend'])
        self.assertSameBytes(writer.model, path_of(vol))
        # The guest reads the destination through cmp1's bridge of the
        # attachment the switch made.
        self.assertIn('/%s.sock' % vol['attachments'][0]['id'],
                      dom.XMLDesc(0))

    def test_live_cancel_keeps_the_guest_on_the_source(self):
        dom, vol, att, writer = self.guest_writing(
            'cmp2', 'vol2-block', 96 * MiB, seed=23)
        mig = self.migrate(vol['id'], 'vol1-file')
        self.wait_copying(mig['id'])
        self.d.api('POST', '/v1/migrations/%s/cancel' % mig['id'])
        mig = self.wait_migration(mig['id'])
        self.assertEqual('cancelled', mig['status'], mig)
        writer.wait_for(5)
        writer.stop()
        guests.guest_flush(dom, att['device'])
        vol = self.get_volume(vol['id'])
        self.assertEqual(('vol2-block', 'in-use'),
                         (vol['backend'], vol['status']))
        self.assertSameBytes(writer.model, path_of(vol))

    # -- processes killed ----------------------------------------------

    def test_conductor_killed_mid_migration(self):
        size = 96 * MiB
        vol = self.create_volume('vol1-file', size)
        expected = write_pattern(path_of(vol), size, seed=24)
        mig = self.migrate(vol['id'], 'vol2-file')
        self.wait_copying(mig['id'])
        # The conductor that started the copy dies; the other carries
        # the migration on when the copy's end reaches it.
        mark = 'Migration %s: copying' % mig['id']
        driver = next(h for h in ('ctl1', 'ctl2') if mark in open(
            self.d.log_of(h, 'migrator-conductor'), errors='replace').read())
        os.kill(self.d.pid_of(driver, 'migrator-conductor'), signal.SIGKILL)
        try:
            mig = self.wait_migration(mig['id'])
            self.assertEqual('success', mig['status'], mig)
            self.assertSameBytes(expected, path_of(self.get_volume(
                vol['id'])))
            self.assertNoExports()
        finally:
            self.d.run('up', '--extra-conf', self.d.extra)
        self.d.api('DELETE', '/v1/volumes/%s' % vol['id'])

    def test_volume_worker_restarted_mid_copy(self):
        size = 96 * MiB
        vol = self.create_volume('vol1-file', size)
        expected = write_pattern(path_of(vol), size, seed=25)
        mig = self.migrate(vol['id'], 'vol2-file')
        self.wait_copying(mig['id'])
        os.kill(self.d.pid_of('vol2', 'migrator-volume'), signal.SIGKILL)
        self.d.run('up', '--extra-conf', self.d.extra)   # starts it again
        # The copy resumes from its watermark, over the same export.
        mig = self.wait_migration(mig['id'])
        self.assertEqual(('success', None), (mig['status'], mig['error']),
                         mig)
        vol = self.wait_volume(vol['id'], 'available')
        self.assertEqual('vol2-file', vol['backend'])
        self.assertSameBytes(expected, path_of(vol))
        self.assertNoExports()
        # The worker that came back serves the next migration.
        self.migrate_and_compare(vol['id'], 'vol1-file', expected)
        self.d.api('DELETE', '/v1/volumes/%s' % vol['id'])


def _destroy(dom):
    try:
        dom.destroy()
    except Exception:
        pass
    try:
        dom.undefine()
    except Exception:
        pass


def _pids(comm):
    from migrator_testing import hosts
    return hosts.pids_of(comm)


def _cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return f.read()
    except OSError:
        return b''
