"""Base of the RPC client classes.

Each client's docstring records its versions.  The version cap of a
client is the newest version it knows; a deployment upgrading agents
one by one can pin it with ``[upgrade_levels]`` later without changes
to the callers.
"""

from migrator_api.common import rpc


class RPCAPI:
    TOPIC = None
    RPC_API_VERSION = '1.0'

    def __init__(self, timeout=None):
        self.timeout = timeout
        self._client = rpc.get_client(self.TOPIC, self.RPC_API_VERSION,
                                      version_cap=self.RPC_API_VERSION,
                                      timeout=timeout)

    def prepare(self, server=None, version=None, timeout=None):
        kwargs = {'version': version or self.RPC_API_VERSION}
        if server is not None:
            kwargs['server'] = server
        if timeout is not None or self.timeout is not None:
            kwargs['timeout'] = timeout or self.timeout
        return self._client.prepare(**kwargs)
