"""Base of the RPC client classes.

Each client's docstring records its versions.  A client sends at most
its version cap: the newest version it knows, or the version
``[upgrade_levels]`` pins it to (``conductor``, ``volume`` or
``compute``, after the topic it calls) while a deployment is
upgraded service by service (the conductors, upgraded last, keep
talking to the agents that still run the older release).  A caller of
a method newer than 1.0 asks ``can_send_version`` first and, when the
answer is no, does without it or uses the older form.
"""

from oslo_config import cfg

from migrator_api.common import rpc
# The [upgrade_levels] options are registered on cfg.CONF on import.
from migrator_api import conf as _conf  # noqa: F401

CONF = cfg.CONF

#: The option of ``[upgrade_levels]`` that pins the clients of a topic.
UPGRADE_LEVELS = {rpc.CONDUCTOR_TOPIC: 'conductor',
                  rpc.VOLUME_TOPIC: 'volume',
                  rpc.COMPUTE_TOPIC: 'compute'}


def _version(text):
    return tuple(int(part) for part in text.split('.'))


def version_cap(level, newest):
    """The cap of a client whose newest version is ``newest``: the pin
    of ``[upgrade_levels] level`` when one is set (a pin newer than
    ``newest`` caps nothing)."""
    pinned = getattr(CONF.upgrade_levels, level) if level else None
    if not pinned or _version(pinned) > _version(newest):
        return newest
    return pinned


class RPCAPI:
    TOPIC = None
    RPC_API_VERSION = '1.0'

    def __init__(self, timeout=None):
        self.timeout = timeout
        self.version_cap = version_cap(UPGRADE_LEVELS.get(self.TOPIC),
                                       self.RPC_API_VERSION)
        self._client = rpc.get_client(self.TOPIC, self.RPC_API_VERSION,
                                      version_cap=self.version_cap,
                                      timeout=timeout)

    def can_send_version(self, version):
        """Whether the cap allows a call of ``version``."""
        return self._client.can_send_version(version)

    def prepare(self, server=None, version=None, timeout=None):
        kwargs = {'version': version or self.RPC_API_VERSION}
        if server is not None:
            kwargs['server'] = server
        if timeout is not None or self.timeout is not None:
            kwargs['timeout'] = timeout or self.timeout
        return self._client.prepare(**kwargs)
