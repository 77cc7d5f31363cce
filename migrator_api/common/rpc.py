"""oslo.messaging set-up shared by the API, the conductor and the agents.

One transport per process: with the in-process ``fake://`` transport of
the embedded default, every server and client of the process must share
it.
"""

import oslo_messaging as messaging
from oslo_messaging.rpc import dispatcher

from migrator_api.common import context as mcontext

CONDUCTOR_TOPIC = 'migrator-conductor'
VOLUME_TOPIC = 'migrator-volume'
COMPUTE_TOPIC = 'migrator-compute'

ALLOWED_EXMODS = ['migrator_api.common.exception']

TRANSPORT = None
NOTIFICATION_TRANSPORT = None
NOTIFIER = None


def init(conf):
    global TRANSPORT, NOTIFICATION_TRANSPORT, NOTIFIER
    messaging.set_transport_defaults('migrator')
    TRANSPORT = messaging.get_rpc_transport(
        conf, allowed_remote_exmods=ALLOWED_EXMODS)
    NOTIFICATION_TRANSPORT = messaging.get_notification_transport(
        conf, allowed_remote_exmods=ALLOWED_EXMODS)
    NOTIFIER = messaging.Notifier(NOTIFICATION_TRANSPORT,
                                  serializer=RequestContextSerializer())


def cleanup():
    global TRANSPORT, NOTIFICATION_TRANSPORT, NOTIFIER
    for transport in (TRANSPORT, NOTIFICATION_TRANSPORT):
        if transport is not None:
            transport.cleanup()
    TRANSPORT = NOTIFICATION_TRANSPORT = NOTIFIER = None


def initialized():
    return TRANSPORT is not None


class RequestContextSerializer(messaging.Serializer):
    """Carry a RequestContext across RPC; entities pass as plain JSON."""

    def serialize_entity(self, ctxt, entity):
        return entity

    def deserialize_entity(self, ctxt, entity):
        return entity

    def serialize_context(self, ctxt):
        return ctxt.to_dict()

    def deserialize_context(self, ctxt):
        return mcontext.RequestContext.from_dict(ctxt)


def get_client(topic, version, server=None, version_cap=None, timeout=None):
    target = messaging.Target(topic=topic, server=server, version=version)
    return messaging.get_rpc_client(TRANSPORT, target,
                                    version_cap=version_cap,
                                    serializer=RequestContextSerializer(),
                                    timeout=timeout)


def get_server(topic, server, endpoints):
    target = messaging.Target(topic=topic, server=server)
    access_policy = dispatcher.DefaultRPCAccessPolicy
    return messaging.get_rpc_server(TRANSPORT, target, endpoints,
                                    executor='threading',
                                    serializer=RequestContextSerializer(),
                                    access_policy=access_policy)


def get_notifier(publisher_id):
    return NOTIFIER.prepare(publisher_id=publisher_id)
