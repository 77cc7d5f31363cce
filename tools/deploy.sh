#!/usr/bin/env bash
# A local multi-host deployment of migrator in one command.
#
#   tools/deploy.sh up       install what is missing, start everything,
#                            wait until every service reports up, print
#                            the endpoint and the OS_* settings
#   tools/deploy.sh status   each host, its processes, `migrator service list`
#   tools/deploy.sh down     stop everything it started, remove the
#                            namespaces, the bridge and the loop devices
#
# Hosts are network namespaces on a bridge (ctl1, ctl2: API and
# conductors; vol1, vol2: volume workers; cmp1, cmp2: compute agents,
# each with a libvirtd of its own); RabbitMQ, MariaDB (or PostgreSQL)
# and keystone run in the root namespace on the bridge address.  Options (after the command):
# --state DIR (default state/deploy), --prefix P (mgd), --subnet A.B.C
# (10.77.0), --database mariadb|postgresql (up; default mariadb),
# --extra-conf FILE (up: options for every host, in its migrator.conf.d),
# --keep-services (down: leave RabbitMQ and the database running).
# Run as root on Debian 12.  One line per step; installers log to
# state/logs/install.log, the services to state/deploy/logs/<host>/.
# See doc/source/install/deploy.rst.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
. tools/lib.sh
VENV=${MIGRATOR_VENV:-$TOP/.venv}

case "${1:-}" in
  up)
    bash tools/install.sh || exit 1
    # ip, unshare and losetup, openssl (the CA), libvirtd and QEMU for
    # the compute hosts (each starts its own libvirtd: the machine's is
    # not needed), RabbitMQ and the database server.
    apt_install iproute2 util-linux openssl libvirt-daemon-system \
      libvirt-clients libvirt-dev pkg-config qemu-system-x86 qemu-utils \
      gcc || exit 1
    if ! "$VENV/bin/python" -c 'import libvirt' 2>/dev/null; then
      step "building libvirt-python into $VENV (log: $MIGRATOR_LOG)"
      quietly "$VENV/bin/pip" install libvirt-python || exit 1
    fi
    database=mariadb
    args=("$@")
    for i in "${!args[@]}"; do
      case ${args[$i]} in
        --database=*) database=${args[$i]#--database=} ;;
        --database) database=${args[$((i + 1))]:-mariadb} ;;
      esac
    done
    bash tools/install-services.sh rabbitmq "$database" || exit 1
    ;;
  status|down)
    if [ ! -x "$VENV/bin/python" ]; then
      echo "== nothing is deployed (no $VENV)"
      exit 0
    fi
    ;;
  *)
    echo "usage: tools/deploy.sh up|status|down [--state DIR] [--prefix P] [--subnet A.B.C] [--database mariadb|postgresql] [--extra-conf FILE] [--keep-services]" >&2
    exit 2
    ;;
esac
export PYTHONPATH="$TOP/tools${PYTHONPATH:+:$PYTHONPATH}"
exec "$VENV/bin/python" -m deploy "$@"
