#!/usr/bin/env bash
# Install the shared services of a deployment -- RabbitMQ, MariaDB and
# PostgreSQL -- on Debian 12 (run as root), idempotently and quietly:
# one line per step, the commands' output in $MIGRATOR_LOG.  Nothing is
# started here (there is no init system and the packages' maintainer
# scripts start nothing); migrator_testing/services.py starts each one
# when it is needed, configures it and returns the URL to use.
#
# Usage: tools/install-services.sh [rabbitmq] [mariadb] [postgresql]
#        (no argument: all three)
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/tools/lib.sh"

# Parallel test workers and deployment scripts wait for each other.
exec 9>/tmp/migrator-install-services.lock
if ! flock -w 600 9; then
  echo "!! install-services: another run has held the lock for 10 minutes"
  exit 1
fi

[ $# -gt 0 ] || set -- rabbitmq mariadb postgresql
packages=""
for name in "$@"; do
  case $name in
    rabbitmq) packages="$packages rabbitmq-server" ;;
    mariadb) packages="$packages mariadb-server mariadb-client" ;;
    postgresql) packages="$packages postgresql postgresql-client" ;;
    *) echo "!! install-services: unknown service $name" >&2; exit 2 ;;
  esac
done
apt_install $packages || exit 1

# PostgreSQL's package makes its first cluster; make one if it did not.
if [[ " $* " == *" postgresql "* ]] && \
    [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
  step "creating the PostgreSQL cluster"
  version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  quietly pg_createcluster "$version" main || exit 1
fi
exit 0
