"""Regression (found by the fuzzer, tests/functional/fuzz): a
``backend_type`` filter other than the documented ``file`` or ``block``
(``GET /v1/backends?backend_type=nfs``) answered 200 with no backends,
where the OpenAPI document declares an enum; a typo looked like an empty
deployment.  It is a 400 naming the allowed values, as every other enum
filter is, and the document, the API and the configuration option share
one list."""

from migrator_api.common import states
from migrator_api.conf import backend as backend_conf
from tests.functional.api import base
from tests.functional.api import test_openapi


class TestBackendTypeFilter(base.APITestCase):

    def test_unknown_backend_type_is_400(self):
        for value in ('nfs', 'File', '0.5', ''):
            self.assertRejected(
                'get', '/v1/backends?backend_type=%s' % value, 400,
                'migrator.invalid_input',
                ['query parameter backend_type', "'file'", "'block'"])

    def test_known_backend_types_still_filter(self):
        for value, names in (('file', ['file1', 'remote1']),
                             ('block', ['block1'])):
            backends = self.app.get('/v1/backends?backend_type=%s'
                                    % value).json['backends']
            self.assertEqual(names, [b['name'] for b in backends])

    def test_one_list_of_backend_types(self):
        option = next(o for o in backend_conf.opts
                      if o.name == 'backend_type')
        self.assertEqual(list(states.BACKEND_TYPES),
                         list(option.type.choices))
        spec = test_openapi.load_spec()
        param = next(p for p in spec['paths']['/v1/backends']['get'][
            'parameters'] if p['name'] == 'backend_type')
        self.assertEqual(list(states.BACKEND_TYPES), param['schema']['enum'])
        self.assertEqual(list(states.BACKEND_TYPES), spec['components'][
            'schemas']['Backend']['properties']['backend_type']['enum'])
