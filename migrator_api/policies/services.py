from oslo_policy import policy

from migrator_api.policies import base

PREFIX = 'migrator:service:%s'

rules = [
    policy.DocumentedRuleDefault(
        name=PREFIX % 'list', check_str=base.ADMIN,
        scope_types=base.PROJECT_SCOPE,
        description='List the volume workers and compute agents and '
                    'whether each is up.',
        operations=[{'path': '/v1/services', 'method': 'GET'}]),
]


def list_rules():
    return rules
