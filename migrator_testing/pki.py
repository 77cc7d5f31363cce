"""x509 certificates for the NBD data path between hosts, as a deployment
makes them (tests and tools/deploy use this; an operator uses their own
CA).

One CA per deployment; each host gets one key and certificate, valid
for both ends of a TLS connection, in the layout QEMU's
``tls-creds-x509`` and libnbd read (``[nbd] tls_dir`` of that host)::

    <dir>/ca-cert.pem
    <dir>/server-cert.pem  <dir>/server-key.pem
    <dir>/client-cert.pem  <dir>/client-key.pem

The certificate's subject is ``O=migrator,CN=<host name>``: the identity
an export's authorization list names (``identity(host)``), so that only
the hosts a migration names may connect.
"""

import os
import shutil
import subprocess
import tempfile

ORGANIZATION = 'migrator'


def identity(host):
    """The distinguished name QEMU's authz compares, for ``host``."""
    return 'O=%s,CN=%s' % (ORGANIZATION, host)


def _openssl(*args, cwd=None):
    subprocess.run(['openssl'] + list(args), check=True, cwd=cwd,
                   capture_output=True)


class CA(object):
    """A certificate authority kept in ``directory``."""

    def __init__(self, directory, days=30):
        self.directory = directory
        self.days = days
        self.cert = os.path.join(directory, 'ca-cert.pem')
        self.key = os.path.join(directory, 'ca-key.pem')

    def create(self):
        """Make the CA unless it exists; returns self."""
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        if not os.path.exists(self.cert):
            _openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes',
                     '-keyout', self.key, '-out', self.cert, '-days',
                     str(self.days), '-subj', '/O=%s/CN=migrator-ca'
                     % ORGANIZATION)
        return self

    def issue(self, host, address, tls_dir):
        """Write ``host``'s credentials into ``tls_dir`` (its ``[nbd]
        tls_dir``); ``address``: its IP address (also in the
        certificate)."""
        os.makedirs(tls_dir, mode=0o700, exist_ok=True)
        with tempfile.TemporaryDirectory() as work:
            key = os.path.join(work, 'key.pem')
            csr = os.path.join(work, 'req.csr')
            cert = os.path.join(work, 'cert.pem')
            ext = os.path.join(work, 'ext.cnf')
            with open(ext, 'w') as f:
                f.write('basicConstraints=CA:FALSE\n'
                        'keyUsage=digitalSignature,keyEncipherment\n'
                        'extendedKeyUsage=serverAuth,clientAuth\n'
                        'subjectAltName=IP:%s,DNS:%s\n' % (address, host))
            _openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key,
                     '-out', csr, '-subj', '/O=%s/CN=%s'
                     % (ORGANIZATION, host))
            _openssl('x509', '-req', '-in', csr, '-CA', self.cert, '-CAkey',
                     self.key, '-CAcreateserial', '-out', cert, '-days',
                     str(self.days), '-extfile', ext, cwd=self.directory)
            shutil.copy(self.cert, os.path.join(tls_dir, 'ca-cert.pem'))
            for role in ('server', 'client'):
                shutil.copy(cert, os.path.join(tls_dir, '%s-cert.pem' % role))
                target = os.path.join(tls_dir, '%s-key.pem' % role)
                shutil.copy(key, target)
                os.chmod(target, 0o600)
        return tls_dir
