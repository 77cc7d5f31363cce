from oslo_policy import policy

from migrator_api.policies import base

PREFIX = 'migrator:backend:%s'

# Users pick a backend by name when they create a volume, so any reader
# may list them (as with Cinder's volume types).
rules = [
    policy.DocumentedRuleDefault(
        name=PREFIX % 'list', check_str=base.ANY_READER,
        scope_types=base.PROJECT_SCOPE,
        description='List storage backends, their capabilities, capacity '
                    'and state.',
        operations=[{'path': '/v1/backends', 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name=PREFIX % 'show', check_str=base.ANY_READER,
        scope_types=base.PROJECT_SCOPE,
        description='Show one storage backend.',
        operations=[{'path': '/v1/backends/{backend}', 'method': 'GET'}]),
]


def list_rules():
    return rules
