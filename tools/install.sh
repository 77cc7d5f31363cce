#!/usr/bin/env bash
# Install what migrator needs on Debian 12 (run as root), idempotently:
# system packages, a virtualenv in .venv with migrator and its test
# requirements.  Usage: tools/install.sh [--with-libvirt]
# One line per step; the commands' output goes to $MIGRATOR_LOG
# (default state/logs/install.log).
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
. tools/lib.sh
VENV=${MIGRATOR_VENV:-$TOP/.venv}

# Every command the scripts and the tests call: procps (pgrep, pkill),
# util-linux (losetup, blockdev, flock, unshare), qemu-utils (qemu-img),
# uwsgi (migrator-api as deployed), and the data path between hosts:
# iproute2 (hosts as network namespaces), openssl (the deployment's CA),
# qemu-system-common (qemu-storage-daemon: the NBD exports and bridges),
# python3-libnbd (the NBD client; a Debian package only).
apt_install python3 python3-venv python3-dev gcc git util-linux mount \
  coreutils procps qemu-utils uwsgi-core uwsgi-plugin-python3 iproute2 \
  openssl qemu-system-common python3-libnbd || exit 1

# RabbitMQ, MariaDB and PostgreSQL (the multi-host tests start them
# through migrator_testing/services.py).
bash tools/install-services.sh || exit 1

if [ ! -x "$VENV/bin/python" ]; then
  step "creating virtualenv $VENV"
  # The system interpreter, with its site packages (python3-rbd and
  # python3-rados exist only as Debian packages).
  quietly /usr/bin/python3 -m venv --system-site-packages "$VENV" || exit 1
fi
stamp="$VENV/.migrator-installed"
want=$(cat requirements.txt test-requirements.txt setup.cfg | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  step "installing migrator and its requirements into $VENV (log: $MIGRATOR_LOG)"
  quietly "$VENV/bin/pip" install --upgrade pip || exit 1
  quietly "$VENV/bin/pip" install -r requirements.txt -r test-requirements.txt || exit 1
  quietly "$VENV/bin/pip" install -e . || exit 1
  # oslo.service still depends on eventlet although migrator selects its
  # threading backend; remove it so that nothing can fall back to it.
  quietly "$VENV/bin/pip" uninstall -y eventlet || true
  echo "$want" > "$stamp"
fi

if [ "${1:-}" = "--with-libvirt" ]; then
  bash tools/install-libvirt.sh "$VENV" || exit 1
fi
exit 0
