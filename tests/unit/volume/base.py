"""Helpers of the volume worker tests: real files, real loop devices,
deterministic data, byte-for-byte comparison, and the oslo.messaging
fake transport with the in-memory notification driver."""

import os
import random
import uuid

import fixtures
from oslo_messaging import conffixture
from oslo_messaging.notify import _impl_test

from migrator_api.common import rpc
from migrator_api.conf import backend as backend_conf
from migrator_testing import hosts
from tests import base

MiB = 1024 * 1024


class LoopDevice(fixtures.Fixture):
    """A loop device over a new backing file, detached at cleanup.

    :param fill: bytes repeated over the whole device (stale data), or
        None for a sparse backing file reading as zeroes.
    """

    def __init__(self, directory, size, fill=None):
        super().__init__()
        self.directory = directory
        self.size = size
        self.fill = fill

    def _setUp(self):
        self.backing = os.path.join(self.directory,
                                    'loop-%s.img' % uuid.uuid4().hex)
        with open(self.backing, 'wb') as f:
            if self.fill:
                f.write((self.fill * (self.size // len(self.fill) + 1))
                        [:self.size])
            else:
                f.truncate(self.size)
        self.path = hosts.attach_loop(self.backing)
        self.addCleanup(hosts.detach_loop, self.path, self.backing)


class MessagingFixture(fixtures.Fixture):
    """rpc.init() over 'fake:/' with the 'test' notification driver."""

    def __init__(self, conf):
        super().__init__()
        self.conf = conf

    def _setUp(self):
        messaging_conf = self.useFixture(conffixture.ConfFixture(self.conf))
        messaging_conf.transport_url = 'fake:/'
        self.conf.set_override('driver', ['test'],
                               group='oslo_messaging_notifications')
        _impl_test.reset()
        self.addCleanup(_impl_test.reset)
        rpc.init(self.conf)
        self.addCleanup(rpc.cleanup)

    @staticmethod
    def notifications(event_prefix='volume.migration.'):
        """The (event_type, payload, publisher_id) sent so far."""
        return [(m['event_type'], m['payload'], m['publisher_id'])
                for _ctxt, m, _prio, _retry in _impl_test.NOTIFICATIONS
                if m['event_type'].startswith(event_prefix)]


class VolumeTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path

    def loop_device(self, size, fill=None):
        return self.useFixture(LoopDevice(self.tmp, size, fill)).path

    def backend(self, name, **options):
        """Declare backend ``name`` with these options for this test."""
        backend_conf.register_backend_opts(self.conf, name)
        for key, value in options.items():
            self.flags(group=name, **{key: value})

    def make_file(self, size, data_ranges=(), name=None, seed=1):
        """A sparse file of ``size`` bytes holding random data in each
        (offset, length) of ``data_ranges``; the rest are holes."""
        path = os.path.join(self.tmp, name or 'f-%s' % uuid.uuid4().hex)
        with open(path, 'wb') as f:
            f.truncate(size)
        self.write_data(path, data_ranges, seed)
        return path

    @staticmethod
    def write_data(path, data_ranges, seed=1):
        rnd = random.Random(seed)
        with open(path, 'r+b') as f:
            for offset, length in data_ranges:
                f.seek(offset)
                f.write(rnd.randbytes(length))
            f.flush()
            os.fsync(f.fileno())

    def assertSameData(self, src, dst, size):
        """The first ``size`` bytes of src and dst are equal."""
        with open(src, 'rb') as a, open(dst, 'rb') as b:
            offset = 0
            while offset < size:
                n = min(MiB, size - offset)
                x, y = a.read(n), b.read(n)
                if x != y:
                    first = next(i for i in range(min(len(x), len(y)))
                                 if x[i] != y[i]) if len(x) == len(y) else 0
                    self.fail('%s and %s differ at offset %d'
                              % (src, dst, offset + first))
                offset += n

    @staticmethod
    def allocated(path):
        return os.stat(path).st_blocks * 512
