"""Native threads only, and agents that stay light.

Each check imports in a fresh interpreter so that what one test
imported cannot hide what another needs.
"""

import subprocess
import sys

from tests import base

_CHECK = '''
import importlib, pkgutil, sys
for pkg in %(packages)r:
    mod = importlib.import_module(pkg)
    for info in pkgutil.walk_packages(mod.__path__, pkg + '.'):
        if any(skip in info.name for skip in %(skip)r):
            continue
        importlib.import_module(info.name)
bad = sorted(m for m in sys.modules if m.split('.')[0] in %(banned)r)
print(' '.join(bad))
'''


def _imported(packages, banned, skip=()):
    code = _CHECK % {'packages': packages, 'banned': banned, 'skip': skip}
    out = subprocess.run([sys.executable, '-c', code], check=True,
                         capture_output=True, text=True)
    return out.stdout.split()


class TestLayering(base.TestCase):

    def test_no_eventlet_anywhere(self):
        self.assertEqual([], _imported(
            ['migrator_api', 'migrator_volume', 'migrator_compute'],
            ['eventlet'], skip=['alembic.env', 'alembic.versions']))

    def test_oslo_service_uses_threading_backend(self):
        code = ('import migrator_api, oslo_messaging\n'
                'from oslo_service import backend\n'
                'print(backend.get_backend_type().value)')
        out = subprocess.run([sys.executable, '-c', code], check=True,
                             capture_output=True, text=True)
        self.assertEqual('threading', out.stdout.strip())

    def test_agents_import_neither_pecan_nor_sqlalchemy(self):
        self.assertEqual([], _imported(
            ['migrator_volume', 'migrator_compute'],
            ['pecan', 'sqlalchemy', 'webob']))
