from oslo_policy import policy

from migrator_api.policies import base

PREFIX = 'migrator:attachment:%s'

rules = [
    policy.DocumentedRuleDefault(
        name=PREFIX % 'create', check_str=base.ADMIN,
        scope_types=base.PROJECT_SCOPE,
        description='Attach a volume to an instance on a compute host '
                    '(what the compute service does for its instances).',
        operations=[{'path': '/v1/attachments', 'method': 'POST'}]),
    policy.DocumentedRuleDefault(
        name=PREFIX % 'list', check_str=base.ADMIN,
        scope_types=base.PROJECT_SCOPE,
        description='List attachments.',
        operations=[{'path': '/v1/attachments', 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name=PREFIX % 'show', check_str=base.ADMIN,
        scope_types=base.PROJECT_SCOPE,
        description='Show an attachment.',
        operations=[{'path': '/v1/attachments/{attachment_id}',
                     'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name=PREFIX % 'delete', check_str=base.ADMIN,
        scope_types=base.PROJECT_SCOPE,
        description='Detach a volume from its instance.',
        operations=[{'path': '/v1/attachments/{attachment_id}',
                     'method': 'DELETE'}]),
]


def list_rules():
    return rules
