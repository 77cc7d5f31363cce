"""The policy enforcer: defaults in code (migrator_api.policies),
overrides in the [oslo_policy] policy_file."""

from oslo_config import cfg
from oslo_policy import policy

from migrator_api.common import exception
from migrator_api import policies

_ENFORCER = None


def init(conf=None):
    """Create the enforcer for ``conf`` (idempotent)."""
    global _ENFORCER
    if _ENFORCER is None:
        _ENFORCER = policy.Enforcer(conf or cfg.CONF)
        _ENFORCER.register_defaults(policies.list_rules())
        _ENFORCER.load_rules()
    return _ENFORCER


def reset():
    global _ENFORCER
    if _ENFORCER is not None:
        _ENFORCER.clear()
    _ENFORCER = None


def get_enforcer():
    """Entry point of the oslo.policy command line tools only.

    They need the configuration parsed (for the policy file) but must not
    hand the tools' own arguments to it.
    """
    cfg.CONF([], project='migrator')
    return init(cfg.CONF)


def authorize(ctxt, rule, target=None):
    """Raise NotAuthorized unless ``ctxt`` may do ``rule`` on ``target``."""
    if target is None:
        target = {'project_id': ctxt.project_id}
    try:
        return init().authorize(rule, target, ctxt, do_raise=True,
                                exc=exception.NotAuthorized, action=rule)
    except policy.InvalidScope:
        raise exception.NotAuthorized(action=rule)


def check(ctxt, rule, target=None):
    """Whether ``ctxt`` may do ``rule`` on ``target``; never raises."""
    if target is None:
        target = {'project_id': ctxt.project_id}
    try:
        return init().authorize(rule, target, ctxt, do_raise=False)
    except policy.InvalidScope:
        return False
