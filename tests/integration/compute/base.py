"""Shared scaffolding of the compute integration tests."""

import json
import os
import threading
import uuid as uuid_mod

import fixtures
import testtools.content

from tests import base
from tests.integration import fixtures_libvirt as fl


class Crash(BaseException):
    """Simulated death of the agent (not an Exception: no handler in the
    driver may catch it)."""


_default_excepthook = threading.excepthook


def _quiet_crash_hook(args):
    if not issubclass(args.exc_type, Crash):
        _default_excepthook(args)


def crash_at(step, phase):
    """A fault hook that kills the flow at ``(step, phase)``."""
    hit = threading.Event()

    def hook(s, p):
        if (s, p) == (step, phase):
            hit.set()
            raise Crash('%s/%s' % (s, p))
    hook.hit = hit
    return hook


class Done(object):
    """An on_done callback that can be waited for."""

    def __init__(self):
        self.event = threading.Event()
        self.errors = []

    def __call__(self, error):
        self.errors.append(error)
        self.event.set()

    def wait(self, test, timeout=120):
        test.assertTrue(self.event.wait(timeout), 'on_done never called')
        test.assertEqual([None], self.errors)


class LibvirtTestCase(base.TestCase):
    EXCLUSIVE = False

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.lv = self.useFixture(fl.LibvirtFixture(
            self.tmp, exclusive=self.EXCLUSIVE))
        from migrator_compute.drivers.libvirt import driver as driver_mod
        self.driver_mod = driver_mod
        self.driver = self.new_driver()
        self.useFixture(fixtures.MonkeyPatch('threading.excepthook',
                                             _quiet_crash_hook))

    def new_driver(self):
        driver = self.driver_mod.LibvirtDriver(self.conf)
        self.addCleanup(self._save_timings, driver)
        self.addCleanup(driver.cleanup)
        return driver

    def _save_timings(self, driver):
        out = os.environ.get('MIGRATOR_TIMINGS_FILE')
        if out and driver.timings:
            with open(out, 'a') as f:
                f.write(json.dumps({'test': self.id(),
                                    'timings': driver.timings}) + '\n')

    def record_phases(self, writer):
        """Log (and optionally save) how many guest writes happened in
        each step of the flow."""
        phases = {str(k): v for k, v in writer.phases.items()}
        self.addDetail('writes-per-step', testtools.content.json_content(
            phases))
        out = os.environ.get('MIGRATOR_TIMINGS_FILE')
        if out:
            with open(out, 'a') as f:
                f.write(json.dumps({'test': self.id(),
                                    'writes': phases}) + '\n')

    # -- helpers ----------------------------------------------------------

    def attach(self, uuid, volume, driver=None):
        aid = str(uuid_mod.uuid4())
        info = (driver or self.driver).attach_volume(
            uuid, aid, volume.connection_info)
        return aid, info['target']

    def writer(self, uuid, target, model, seed=0):
        dom = self.lv.domain(uuid)
        w = fl.GuestWriter(dom.name(), target, model, seed=seed)
        self.addCleanup(self._stop_quietly, w)
        return w

    @staticmethod
    def _stop_quietly(w):
        w._halt.set()
        if w.is_alive():
            w.join(30)

    def write_some(self, w, uuid, n=5):
        """Synchronous writes from the test thread (writer stopped)."""
        dom = self.lv.domain(uuid)
        dev = fl.device_id(dom, w.target)
        for _ in range(n):
            w.write_one(dom, dev)

    def flush(self, uuid, target):
        fl.guest_flush(self.lv.domain(uuid), target)

    def live_chain(self, uuid, target):
        from migrator_compute.drivers.libvirt import guest
        root = guest.parse(self.lv.domain(uuid).XMLDesc(0))
        return [os.path.realpath(p) for p in guest.chain_paths(root, target)]

    def persistent_chain(self, uuid, target):
        import libvirt
        from migrator_compute.drivers.libvirt import guest
        root = guest.parse(self.lv.domain(uuid).XMLDesc(
            libvirt.VIR_DOMAIN_XML_INACTIVE))
        return [os.path.realpath(p) for p in guest.chain_paths(root, target)]

    def make_volume(self, kind='file', **kwargs):
        """A volume of ``kind`` (see ``LibvirtFixture.make_volume``);
        the NBD tests add volumes of other hosts."""
        return self.lv.make_volume(kind, **kwargs)

    def volume_path(self, volume):
        """The path the domain's disk names for ``volume``."""
        return os.path.realpath(volume.path)

    def assert_on(self, uuid, target, volume, persistent=True, live=True):
        """The disk uses ``volume`` alone, live and in the definition."""
        real = self.volume_path(volume)
        if live:
            self.assertEqual([real], self.live_chain(uuid, target))
        if persistent:
            self.assertEqual([real], self.persistent_chain(uuid, target))

    def assert_clean(self, driver=None):
        """No overlay left, no migration in the journal."""
        driver = driver or self.driver
        self.assertEqual([], [f for f in os.listdir(driver.overlay_path)])
        self.assertEqual([], [r['attachment_id'] for r in
                              driver.journal.records() if r['migration']])

    def assert_data(self, volume, model):
        data = volume.read()
        self.assertEqual(len(model), len(data))
        if data != bytes(model):
            bad = [i for i in range(0, len(data), 512)
                   if data[i:i + 512] != bytes(model[i:i + 512])]
            self.fail('%d sectors differ on %s, first at %d'
                      % (len(bad), volume.path, bad[0]))

    def freeze_copy(self, src, dst):
        """What the volume service does between start and complete: copy
        the (frozen) source onto the destination."""
        data = src.read()
        dst.write_all(data)
        return data
