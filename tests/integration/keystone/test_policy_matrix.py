"""The whole policy matrix with real keystone tokens.

For each persona (admin, member of the volume's project, member of
another project, reader, no token) every request below is sent through
keystonemiddleware validating the token against keystone, and its
status and the migration fields of every volume it shows are compared
with what the policy sample (etc/migrator/policy.yaml.sample) and the
OpenAPI description say:

- no token: the OpenAPI's public operations (version discovery)
  answer, everything else is 401;
- a rule of the request that the token fails on its own project: 403;
- a volume the token may not show (``migrator:volume:show`` on the
  volume's project) is answered as absent: 404; a volume it may show
  but not delete: 403;
- otherwise the operation's success status;
- migration fields (migration_status, backend_host, location, hidden,
  error) appear exactly when ``migrator:volume:show_migration_fields``
  allows the token; lists hold the token's project's volumes, or all
  of them where ``migrator:volume:list_all_projects`` allows.
"""

from migrator_api.api.controllers import root
from migrator_api.db import api as db_api
from migrator_api.db import models
from tests.functional.api import base as api_base
from tests.integration.keystone import base
from tests.integration.keystone import policy_sample

V = 'migrator:volume:'
MIGRATION_FIELDS = {'migration_status', 'backend_host', 'location', 'hidden',
                    'error'}
#: (method, path template, query, the rules that govern the request)
CASES = [
    ('GET', '/', '', ()),
    ('GET', '/v1', '', ()),
    ('GET', '/v1/backends', '', ('migrator:backend:list',)),
    ('GET', '/v1/backends/{backend}', '', ('migrator:backend:show',)),
    ('GET', '/v1/volumes', '', (V + 'list',)),
    ('GET', '/v1/volumes', 'migration_status=none',
     (V + 'list', V + 'show_migration_fields')),
    ('GET', '/v1/volumes', 'project_id={other_project}',
     (V + 'list', V + 'list_all_projects')),
    ('GET', '/v1/volumes', 'include_hidden=true',
     (V + 'list', V + 'include_hidden')),
    ('POST', '/v1/volumes', '', (V + 'create',)),
    ('GET', '/v1/volumes/{volume_id}', '', (V + 'show',)),
    ('GET', '/v1/volumes/{volume_id}', 'include_hidden=true',
     (V + 'show', V + 'include_hidden')),
    ('DELETE', '/v1/volumes/{volume_id}', '', (V + 'delete',)),
    ('GET', '/v1/attachments', '', ('migrator:attachment:list',)),
    ('POST', '/v1/attachments', '', ('migrator:attachment:create',)),
    ('GET', '/v1/attachments/{attachment_id}', '',
     ('migrator:attachment:show',)),
    ('DELETE', '/v1/attachments/{attachment_id}', '',
     ('migrator:attachment:delete',)),
    ('GET', '/v1/migrations', '', ('migrator:migration:list',)),
    ('POST', '/v1/migrations', '', ('migrator:migration:create',)),
    ('GET', '/v1/migrations/{migration_id}', '',
     ('migrator:migration:show',)),
    ('POST', '/v1/migrations/{migration_id}/cancel', '',
     ('migrator:migration:cancel',)),
    ('GET', '/v1/services', '', ('migrator:service:list',)),
]


class CoverageTest(api_base.APITestCase):
    """The cases cover every route and every rule, as documented."""

    def test_every_route_has_a_case(self):
        self.assertEqual(set(root.iter_routes()),
                         {(m, p) for m, p, _q, _r in CASES})

    def test_every_rule_is_exercised_where_documented(self):
        sample = policy_sample.Sample()
        used = set()
        for method, path, _query, rules in CASES:
            for rule in rules:
                self.assertTrue(sample.documents(rule, method, path),
                                (rule, method, path))
                used.add(rule)
        self.assertEqual({r for r in sample.rules if r.startswith(
            'migrator:')}, used)


class MatrixTest(base.KeystoneAPITestCase):

    def setUp(self):
        super().setUp()
        self.sample = policy_sample.Sample()
        self.operations = policy_sample.openapi_operations()
        self.alpha = self.project_id('member')
        self.beta = self.project_id('other')
        self.volume = self.make_volume(project_id=self.alpha)
        self.make_volume(project_id=self.beta)
        self.attachment = self.attached()
        self.migration = self.make_migration(
            self.make_volume(project_id=self.alpha))

    def make_volume(self, **values):
        # Small: the migrations the matrix records stay queued, and
        # admission counts their bytes against block1's free space.
        values.setdefault('size', 1024 * 1024)
        return super().make_volume(**values)

    def attached(self):
        vol = self.make_volume(project_id=self.alpha)
        att = db_api.attachment_create(vol.id, api_base.INSTANCE,
                                       api_base.COMPUTE_HOST)
        db_api.attachment_finish(att.id, True, device='sdb')
        return att

    def request_for(self, method, path, query):
        """The concrete (path, body) of a case; what a successful request
        changes is made fresh for it."""
        fresh = method in ('POST', 'DELETE')
        values = {
            'backend': 'file1', 'other_project': self.beta,
            'volume_id': (self.make_volume(project_id=self.alpha)
                          if fresh else self.volume).id,
            'attachment_id': (self.attached() if fresh
                              else self.attachment).id,
            'migration_id': (self.make_migration(self.make_volume(
                project_id=self.alpha)) if fresh else self.migration).id,
        }
        bodies = {
            '/v1/volumes': {'volume': {'size': 512, 'backend': 'file1'}},
            '/v1/attachments': {'attachment': {
                'volume_id': self.make_volume(project_id=self.alpha).id,
                'instance_uuid': api_base.INSTANCE,
                'host': api_base.COMPUTE_HOST}},
            '/v1/migrations': {'migration': {
                'volume_id': self.make_volume(project_id=self.alpha).id,
                'backend': 'block1'}},
            '/v1/migrations/{migration_id}/cancel': {},
        }
        url = path.format(**values) + ('?' + query.format(**values)
                                       if query else '')
        return url, bodies.get(path) if method == 'POST' else None

    def expected(self, persona, method, path, rules):
        public, success = self.operations[(method, path)]
        if persona is None:
            return success if public else 401
        access = base.token(persona)[1]
        if not all(self.sample.allows(r, access) for r in rules):
            return 403
        if '{volume_id}' in path:
            if not self.sample.allows(V + 'show', access, self.alpha):
                return 404
            if method == 'DELETE' and not self.sample.allows(
                    V + 'delete', access, self.alpha):
                return 403
        return success

    def send(self, persona, method, url, body):
        kwargs = {'headers': self.headers(persona), 'expect_errors': True}
        if body is not None:
            return self.kapp.post_json(url, body, **kwargs)
        return getattr(self.kapp, method.lower())(url, **kwargs)

    def check_views(self, persona, resp, query):
        """Migration fields and project reach of the volumes shown."""
        body = resp.json
        views = body.get('volumes') or [body.get('volume')]
        if not body.get('volumes') and not body.get('volume'):
            return []
        access = base.token(persona)[1]
        admin_fields = self.sample.allows(V + 'show_migration_fields', access)
        want = MIGRATION_FIELDS if admin_fields else set()
        problems = ['migration fields %s of %s, expected %s'
                    % (sorted(MIGRATION_FIELDS & set(view)), view['id'],
                       sorted(want))
                    for view in views if MIGRATION_FIELDS & set(view) != want]
        if 'volumes' in body and not query:
            everywhere = self.sample.allows(V + 'list_all_projects', access)
            with db_api.writer() as session:
                rows = session.query(models.Volume).filter_by(hidden=False)
                expected = {v.id for v in rows if everywhere
                            or v.project_id == access.project_id}
            if {v['id'] for v in views} != expected:
                problems.append('listed %d volumes, expected %d'
                                % (len(views), len(expected)))
        return problems

    def check_matrix(self, persona):
        problems = []
        for method, path, query, rules in CASES:
            url, body = self.request_for(method, path, query)
            want = self.expected(persona, method, path, rules)
            resp = self.send(persona, method, url, body)
            if resp.status_int != want:
                problems.append('%s %s: %s, expected %s: %s' % (
                    method, url, resp.status_int, want, resp.text[:200]))
            elif want >= 400:
                self.assertError(resp, want)
            elif resp.content_type == 'application/json' and resp.text:
                problems.extend('%s %s: %s' % (method, url, p) for p in
                                self.check_views(persona, resp, query))
        self.assertEqual([], problems)

    def test_admin(self):
        self.check_matrix('admin')

    def test_member_of_the_volumes_project(self):
        self.check_matrix('member')

    def test_member_of_another_project(self):
        self.check_matrix('other')

    def test_reader(self):
        self.check_matrix('reader')

    def test_no_token(self):
        self.check_matrix(None)
