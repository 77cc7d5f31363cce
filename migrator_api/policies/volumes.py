from oslo_policy import policy

from migrator_api.policies import base

PREFIX = 'migrator:volume:%s'

rules = [
    policy.DocumentedRuleDefault(
        name=PREFIX % 'create', check_str=base.ADMIN_OR_PROJECT_MEMBER,
        scope_types=base.PROJECT_SCOPE,
        description='Create a volume in the project of the token.',
        operations=[{'path': '/v1/volumes', 'method': 'POST'}]),
    policy.DocumentedRuleDefault(
        name=PREFIX % 'list', check_str=base.ADMIN_OR_PROJECT_READER,
        scope_types=base.PROJECT_SCOPE,
        description='List the volumes of the project of the token.',
        operations=[{'path': '/v1/volumes', 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name=PREFIX % 'list_all_projects', check_str=base.ADMIN,
        scope_types=base.PROJECT_SCOPE,
        description='List the volumes of every project, and filter a '
                    'list by project_id.',
        operations=[{'path': '/v1/volumes', 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name=PREFIX % 'show', check_str=base.ADMIN_OR_PROJECT_READER,
        scope_types=base.PROJECT_SCOPE,
        description='Show a volume.',
        operations=[{'path': '/v1/volumes/{volume_id}', 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name=PREFIX % 'delete', check_str=base.ADMIN_OR_PROJECT_MEMBER,
        scope_types=base.PROJECT_SCOPE,
        description='Delete a volume.',
        operations=[{'path': '/v1/volumes/{volume_id}',
                     'method': 'DELETE'}]),
    policy.DocumentedRuleDefault(
        name=PREFIX % 'show_migration_fields', check_str=base.ADMIN,
        scope_types=base.PROJECT_SCOPE,
        description='See the migration fields of volumes (migration_status, '
                    'backend_host, location, hidden, error) and filter '
                    'lists by migration_status.',
        operations=[{'path': '/v1/volumes', 'method': 'GET'},
                    {'path': '/v1/volumes/{volume_id}', 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name=PREFIX % 'include_hidden', check_str=base.ADMIN,
        scope_types=base.PROJECT_SCOPE,
        description='See the hidden destination volumes of migrations '
                    '(include_hidden=true).',
        operations=[{'path': '/v1/volumes', 'method': 'GET'},
                    {'path': '/v1/volumes/{volume_id}', 'method': 'GET'}]),
]


def list_rules():
    return rules
