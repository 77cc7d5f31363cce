"""Rules the per-resource policies are built from.

Defaults follow the OpenStack "secure RBAC" personas: ``admin`` (the
operator), ``member`` (may change the resources of its project) and
``reader`` (may look at them).  All tokens are project scoped.
"""

from oslo_policy import policy

ADMIN = 'rule:context_is_admin'
PROJECT_MEMBER = 'role:member and project_id:%(project_id)s'
PROJECT_READER = 'role:reader and project_id:%(project_id)s'
ADMIN_OR_PROJECT_MEMBER = 'rule:admin_or_project_member'
ADMIN_OR_PROJECT_READER = 'rule:admin_or_project_reader'
ANY_READER = 'role:reader'

PROJECT_SCOPE = ['project']

rules = [
    policy.RuleDefault(
        'context_is_admin', 'role:admin',
        description='Who is an operator (an admin of the cloud).'),
    policy.RuleDefault(
        'admin_or_project_member',
        'rule:context_is_admin or (%s)' % PROJECT_MEMBER,
        description='An operator, or a member of the project owning the '
                    'resource.'),
    policy.RuleDefault(
        'admin_or_project_reader',
        'rule:context_is_admin or (%s)' % PROJECT_READER,
        description='An operator, or a reader of the project owning the '
                    'resource.'),
]


def list_rules():
    return rules
