"""The WSGI application of the REST API (pecan, no paste ini).

From the outside in::

    RequestId        X-OpenStack-Request-Id on every response
    RequestGuard     path, query, size, type and arrival of the body
                     checked before anything reads it (guard.py)
    AuthProtocol     keystonemiddleware, when [api] auth_strategy=keystone
    FaultWrapper     anything escaping pecan becomes an API-SIG 500
    pecan            ContextHook -> routing -> handler; ErrorHook renders
                     every error in the API-SIG shape
"""

from keystonemiddleware import auth_token
from oslo_config import cfg
from oslo_middleware import request_id
import pecan

from migrator_api.api.controllers import root
from migrator_api.api import errors
from migrator_api.api import guard
from migrator_api.api import hooks
from migrator_api import policy


def build_pecan_app(conf):
    return pecan.make_app(
        root.RootController(),
        hooks=[hooks.ContextHook(conf), errors.ErrorHook()],
        debug=False,
        force_canonical=False,
        guess_content_type_from_ext=False,
    )


def setup_app(conf=None, authenticate=True, slots=None):
    """The API application configured by ``conf`` (default: cfg.CONF).

    ``authenticate=False`` leaves keystonemiddleware out even with
    ``auth_strategy = keystone``: the identity headers it would set are
    then trusted as sent (only for tests of the policy defaults).
    ``slots``: a semaphore bounding the requests handled at once (the
    built-in server; see guard.RequestGuard).
    """
    conf = conf or cfg.CONF
    policy.init(conf)
    app = errors.FaultWrapper(build_pecan_app(conf))
    if conf.api.auth_strategy == 'keystone' and authenticate:
        # The hook answers unauthenticated requests itself (an API-SIG
        # 401) so that version discovery stays public.
        app = auth_token.AuthProtocol(app, {'oslo_config_config': conf,
                                            'delay_auth_decision': True})
    app = guard.RequestGuard(app, conf.api.max_request_body_size,
                             conf.api.request_body_timeout, slots=slots)
    return request_id.RequestId(app)
