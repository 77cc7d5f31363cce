#!/usr/bin/env bash
# Install what migrator needs on Debian 12 (run as root), idempotently:
# system packages, a virtualenv in .venv with migrator and its test
# requirements.  Usage: tools/install.sh [--with-libvirt]
set -euo pipefail
cd "$(dirname "$0")/.."
TOP=$(pwd)
VENV=${MIGRATOR_VENV:-$TOP/.venv}

PKGS="python3 python3-venv python3-dev gcc git util-linux coreutils qemu-utils"
missing=""
for p in $PKGS; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "== installing system packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "== creating virtualenv $VENV"
  # The system interpreter, with its site packages (python3-rbd and
  # python3-rados exist only as Debian packages).
  /usr/bin/python3 -m venv --system-site-packages "$VENV"
fi
stamp="$VENV/.migrator-installed"
want=$(cat requirements.txt test-requirements.txt setup.cfg | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "== installing migrator into $VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -r requirements.txt -r test-requirements.txt
  "$VENV/bin/pip" install -q -e .
  # oslo.service still depends on eventlet although migrator selects its
  # threading backend; remove it so that nothing can fall back to it.
  "$VENV/bin/pip" uninstall -q -y eventlet >/dev/null 2>&1 || true
  echo "$want" > "$stamp"
fi

if [ "${1:-}" = "--with-libvirt" ]; then
  bash tools/install-libvirt.sh "$VENV"
fi
