"""What the shipped policy sample says: each rule's default check and
the operations it documents, and what it allows a given token.

The expectations of the policy matrix are computed from here (the
sample as operators read it), not from the API's answers.
"""

import os
import re

from oslo_config import cfg
from oslo_policy import policy
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
SAMPLE = os.path.join(REPO, 'etc', 'migrator', 'policy.yaml.sample')
OPENAPI = os.path.join(REPO, 'migrator_api', 'api', 'openapi.yaml')
_OPERATION = re.compile(r'^# (GET|POST|PUT|PATCH|DELETE)\s+(/\S*)$')
_RULE = re.compile(r'^#"([^"]+)": "(.*)"$')


def parse(path=SAMPLE):
    """{rule name: (check string, [(method, path), ...])}."""
    rules, operations = {}, []
    with open(path) as f:
        for line in f:
            line = line.rstrip('\n')
            if not line.strip():
                operations = []
            elif _OPERATION.match(line):
                operations.append(_OPERATION.match(line).groups())
            elif _RULE.match(line):
                name, check = _RULE.match(line).groups()
                rules[name] = (check, operations)
                operations = []
    return rules


class Sample(object):
    """The sample's rules in an oslo.policy enforcer of their own."""

    def __init__(self, path=SAMPLE):
        self.rules = parse(path)
        self.enforcer = policy.Enforcer(cfg.ConfigOpts(), use_conf=False)
        self.enforcer.set_rules(policy.Rules.from_dict(
            {name: check for name, (check, _ops) in self.rules.items()}),
            use_conf=False)

    def allows(self, rule, access, project_id=None):
        """Whether the token (keystoneauth1 AccessInfo) may do ``rule``
        on a resource of ``project_id`` (default: the token's)."""
        creds = {'roles': access.role_names, 'user_id': access.user_id,
                 'project_id': access.project_id}
        target = {'project_id': project_id or access.project_id}
        return self.enforcer.enforce(rule, target, creds)

    def documents(self, rule, method, path):
        return (method, path) in self.rules[rule][1]


def openapi_operations(path=OPENAPI):
    """{(method, path): (public, success status)} from the OpenAPI
    description: public when its security is empty."""
    with open(path) as f:
        spec = yaml.safe_load(f)
    found = {}
    for route, ops in spec['paths'].items():
        for method, op in ops.items():
            if not isinstance(op, dict) or 'responses' not in op:
                continue
            ok = [int(code) for code in op['responses']
                  if str(code).startswith('2')]
            found[(method.upper(), route)] = (op.get('security') == [],
                                              ok[0])
    return found
