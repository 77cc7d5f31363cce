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


def _import_graph():
    """{module: modules of the project it imports}, every import
    statement counted (module level or inside a function)."""
    import ast
    import os
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    mods = {}
    for top in PACKAGES:
        for dirpath, _dirs, files in os.walk(os.path.join(root, top)):
            for name in files:
                if name.endswith('.py'):
                    path = os.path.join(dirpath, name)
                    mod = os.path.relpath(path, root)[:-3].replace('/', '.')
                    mods[mod[:-9] if mod.endswith('.__init__') else mod] = \
                        path
    graph = {}
    for mod, path in mods.items():
        with open(path) as f:
            tree = ast.parse(f.read())
        deps = set()
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and \
                    not node.level:
                names = ['%s.%s' % (node.module, a.name)
                         if '%s.%s' % (node.module, a.name) in mods
                         else node.module for a in node.names]
            deps.update(n for n in names if n in mods and n != mod)
        graph[mod] = deps
    return graph


def _cycles(graph):
    """The strongly connected components of more than one module."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


PACKAGES = ('migrator_api', 'migrator_volume', 'migrator_compute')
API_SIDE = ('migrator_api.api', 'migrator_api.conductor', 'migrator_api.db',
            'migrator_api.cmd', 'migrator_api.cli', 'migrator_api.wsgi')


class TestImportGraph(base.TestCase):
    """The modules of the project, read (not imported): what may import
    what."""

    def setUp(self):
        super().setUp()
        self.graph = _import_graph()

    def test_no_import_cycles(self):
        self.assertEqual([], _cycles(self.graph))

    def test_agents_never_import_the_api_side(self):
        bad = sorted('%s -> %s' % (m, d) for m, deps in self.graph.items()
                     if m.startswith(('migrator_volume', 'migrator_compute'))
                     for d in deps if d.startswith(API_SIDE))
        self.assertEqual([], bad)

    def test_the_rpc_contract_imports_no_process_of_its_own(self):
        bad = sorted('%s -> %s' % (m, d) for m, deps in self.graph.items()
                     if m.startswith('migrator_api.rpcapi')
                     for d in deps if d.startswith(API_SIDE + (
                         'migrator_volume', 'migrator_compute')))
        self.assertEqual([], bad)

    def test_the_graph_sees_the_project(self):
        # A graph that read nothing would pass the tests above.
        self.assertIn('migrator_api.rpcapi.conductor',
                      self.graph['migrator_volume.manager'])
        self.assertGreater(len(self.graph), 100)
