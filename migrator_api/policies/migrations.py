from oslo_policy import policy

from migrator_api.policies import base

PREFIX = 'migrator:migration:%s'

rules = [
    policy.DocumentedRuleDefault(
        name=PREFIX % 'create', check_str=base.ADMIN,
        scope_types=base.PROJECT_SCOPE,
        description='Migrate a volume to another backend.',
        operations=[{'path': '/v1/migrations', 'method': 'POST'}]),
    policy.DocumentedRuleDefault(
        name=PREFIX % 'list', check_str=base.ADMIN,
        scope_types=base.PROJECT_SCOPE,
        description='List migrations.',
        operations=[{'path': '/v1/migrations', 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name=PREFIX % 'show', check_str=base.ADMIN,
        scope_types=base.PROJECT_SCOPE,
        description='Show a migration and its progress.',
        operations=[{'path': '/v1/migrations/{migration_id}',
                     'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name=PREFIX % 'cancel', check_str=base.ADMIN,
        scope_types=base.PROJECT_SCOPE,
        description='Cancel a running migration.',
        operations=[{'path': '/v1/migrations/{migration_id}/cancel',
                     'method': 'POST'}]),
]


def list_rules():
    return rules
