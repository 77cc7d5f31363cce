"""The one keystone of a test run, shared by the stestr workers."""

import atexit
import fcntl
import os

from migrator_testing import keystone


class SharedKeystone(object):
    """The one keystone of a test run, in ``directory`` on a free port
    of 127.0.0.1.

    ``acquire(prepare)`` starts it unless it runs (serialized between
    processes by a lock file), runs ``prepare(server)`` once per process
    under that lock, and holds a shared lock on ``users.lock`` for the
    rest of the process.  At exit, the process that finds no other
    holder of ``users.lock`` stops the server: concurrent stestr workers
    share it and nothing is left running after the suite.
    """

    def __init__(self, directory):
        self.directory = os.path.abspath(directory)
        self.server = None
        self._users = None

    def _lock(self, name):
        os.makedirs(self.directory, exist_ok=True)
        return os.path.join(self.directory, name)

    def _server(self, port):
        # Tests hash passwords with the fewest bcrypt rounds.
        return keystone.Keystone(self.directory, port=port, hash_rounds=4)

    def _recorded(self):
        """The server of the port recorded by whoever started it."""
        try:
            with open(self._lock('port')) as f:
                return self._server(int(f.read()))
        except (OSError, ValueError):
            return None

    def acquire(self, prepare=None):
        if self.server is not None:
            return self.server
        with keystone.flocked(self._lock('start.lock')):
            server = self._recorded()
            if server is None or not server.running():
                if server is not None:
                    server.stop()
                server = self._server(keystone.free_port())
                with open(self._lock('port'), 'w') as f:
                    f.write(str(server.port))
                server.setup().start()
            if prepare:
                prepare(server)
            self._users = open(self._lock('users.lock'), 'a')
            fcntl.flock(self._users, fcntl.LOCK_SH)
            self.server = server
        atexit.register(self.release)
        return server

    def release(self):
        """Stop the server unless another process still uses it."""
        if self.server is None:
            return
        with keystone.flocked(self._lock('start.lock')):
            self._users.close()
            with open(self._lock('users.lock'), 'a') as users:
                try:
                    fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    pass
                else:
                    self.server.stop()
        self.server = None
