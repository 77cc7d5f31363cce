"""Who may connect to an export: the x509 identity of a host.

A deployment gives each host one certificate whose subject is
``O=migrator,CN=<host>`` (``[DEFAULT] host``), signed by the
deployment's CA, in ``[nbd] tls_dir`` (the layout QEMU's
tls-creds-x509 and libnbd read).  An export allows exactly the
identities of the hosts it names; QEMU compares the subject of the
client's verified certificate with them.
"""

import os
import re

from migrator_api.common import exception

ORGANIZATION = 'migrator'
#: What a host name may be (nothing that could change the meaning of
#: a distinguished name: no ``,``, ``=``, ``+`` or spaces).
_HOST_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$')
#: The files of a tls_dir, as a server (exports) and as a client.
SERVER_FILES = ('ca-cert.pem', 'server-cert.pem', 'server-key.pem')
CLIENT_FILES = ('ca-cert.pem', 'client-cert.pem', 'client-key.pem')


def identity(host):
    """The distinguished name an export allows for ``host``."""
    check_host(host)
    return 'O=%s,CN=%s' % (ORGANIZATION, host)


def check_host(host):
    if not isinstance(host, str) or not _HOST_RE.match(host):
        raise exception.InvalidInput(
            reason='host name %r must be 1 to 255 letters, digits, "_", '
                   '"-" or "." and start with a letter or digit'
                   % (host,))


def missing_files(tls_dir):
    """The credentials ``tls_dir`` lacks (all of them without one)."""
    wanted = sorted(set(SERVER_FILES + CLIENT_FILES))
    if not tls_dir:
        return wanted
    return [name for name in wanted
            if not os.path.isfile(os.path.join(tls_dir, name))]
