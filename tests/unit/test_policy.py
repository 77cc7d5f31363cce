"""Policy defaults in code and the enforcer."""

import os

from oslo_policy import generator
from oslo_policy import policy as oslo_policy

from migrator_api.common import context
from migrator_api.common import exception
from migrator_api import policies
from migrator_api import policy
from tests import base

ADMIN = context.RequestContext(user_id='a', project_id='p-admin',
                               roles=['admin', 'member', 'reader'])
MEMBER = context.RequestContext(user_id='m', project_id='p1',
                                roles=['member', 'reader'])
READER = context.RequestContext(user_id='r', project_id='p1',
                                roles=['reader'])
NOBODY = context.RequestContext(user_id='n', project_id='p1', roles=[])

ADMIN_ONLY = ('migrator:migration:create', 'migrator:migration:list',
              'migrator:migration:show', 'migrator:migration:cancel',
              'migrator:service:list', 'migrator:volume:list_all_projects',
              'migrator:volume:show_migration_fields',
              'migrator:volume:include_hidden')


class PolicyTest(base.TestCase):

    def setUp(self):
        super().setUp()
        policy.reset()
        self.addCleanup(policy.reset)
        policy.init(self.conf)

    def test_rules_are_unique_and_documented(self):
        names = [rule.name for rule in policies.list_rules()]
        self.assertEqual(len(names), len(set(names)))
        for rule in policies.list_rules():
            if rule.name.startswith('migrator:'):
                self.assertIsInstance(rule, oslo_policy.DocumentedRuleDefault)
                self.assertEqual(['project'], rule.scope_types)
                self.assertTrue(rule.operations)
            # The sample generator can render every rule.
            self.assertIn(rule.name,
                          generator._format_rule_default_yaml(rule))

    def test_every_rule_used_by_the_api_is_registered(self):
        api_dir = os.path.join(os.path.dirname(policy.__file__), 'api')
        used = set()
        for dirpath, _dirs, files in os.walk(api_dir):
            for name in files:
                if name.endswith('.py'):
                    with open(os.path.join(dirpath, name)) as f:
                        text = f.read()
                    used.update(part.split("'")[0] for part in
                                text.split("'migrator:")[1:])
        registered = {r.name for r in policies.list_rules()}
        self.assertTrue(used)
        self.assertEqual(set(), {'migrator:' + u for u in used} - registered)

    def test_admin_may_do_everything(self):
        for rule in policies.list_rules():
            if rule.name.startswith('migrator:'):
                self.assertTrue(policy.authorize(ADMIN, rule.name,
                                                 {'project_id': 'other'}))

    def test_admin_only_rules(self):
        for ctxt in (MEMBER, READER, NOBODY):
            for rule in ADMIN_ONLY:
                self.assertFalse(policy.check(ctxt, rule), rule)
                exc = self.assertRaises(exception.NotAuthorized,
                                        policy.authorize, ctxt, rule)
                self.assertEqual(403, exc.code)
                self.assertIn(rule, exc.message)

    def test_project_volumes(self):
        own, other = {'project_id': 'p1'}, {'project_id': 'p2'}
        for rule in ('migrator:volume:create', 'migrator:volume:delete'):
            self.assertTrue(policy.check(MEMBER, rule, own))
            self.assertFalse(policy.check(MEMBER, rule, other))
            self.assertFalse(policy.check(READER, rule, own))
        for rule in ('migrator:volume:list', 'migrator:volume:show'):
            self.assertTrue(policy.check(READER, rule, own))
            self.assertFalse(policy.check(READER, rule, other))
            self.assertFalse(policy.check(NOBODY, rule, own))

    def test_backends_for_any_reader(self):
        self.assertTrue(policy.check(READER, 'migrator:backend:list'))
        self.assertTrue(policy.check(READER, 'migrator:backend:show'))
        self.assertFalse(policy.check(NOBODY, 'migrator:backend:list'))

    def test_system_scope_is_refused(self):
        ctxt = context.RequestContext(user_id='s', system_scope='all',
                                      roles=['admin'])
        self.assertRaises(exception.NotAuthorized, policy.authorize, ctxt,
                          'migrator:migration:list')

    def test_unregistered_rule(self):
        self.assertRaises(oslo_policy.PolicyNotRegistered, policy.authorize,
                          ADMIN, 'migrator:nope')

    def test_policy_file_overrides(self):
        path = os.path.join(self.state_path, 'policy.yaml')
        with open(path, 'w') as f:
            f.write('"migrator:migration:list": "role:member"\n')
        self.flags(policy_file=path, group='oslo_policy')
        policy.reset()
        policy.init(self.conf)
        self.assertTrue(policy.check(MEMBER, 'migrator:migration:list'))
        self.assertFalse(policy.check(MEMBER, 'migrator:migration:create'))
