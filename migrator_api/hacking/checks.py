"""migrator's own flake8 checks (``tox -e pep8``, hacking's local
plugins).

M301  eventlet is never imported: migrator runs on native threads.
M302  the agents (migrator_volume, migrator_compute) import neither
      pecan, webob nor SQLAlchemy, nor the API side (migrator_api.db,
      .api, .conductor, .cmd, .cli, .wsgi): they reach the database only
      over RPC, whose contract lives in migrator_api.rpcapi.
"""

import re

from hacking import core

_EVENTLET = re.compile(r'^\s*(import|from)\s+eventlet\b')
_AGENT_BANNED = re.compile(
    r'^\s*(import|from)\s+(pecan|webob|sqlalchemy|'
    r'migrator_api\.(db|api|conductor|cmd|cli|wsgi))\b')
_AGENTS = ('migrator_volume/', 'migrator_compute/')


@core.flake8ext
def no_eventlet(logical_line):
    if _EVENTLET.match(logical_line):
        yield 0, 'M301: eventlet is not used: migrator runs on native threads'


@core.flake8ext
def agents_stay_light(logical_line, filename):
    if any(a in filename for a in _AGENTS) and \
            _AGENT_BANNED.match(logical_line):
        yield 0, ('M302: an agent must not import the API side (pecan, '
                  'webob, SQLAlchemy, migrator_api.db/api/conductor/cmd/cli/'
                  'wsgi)')
