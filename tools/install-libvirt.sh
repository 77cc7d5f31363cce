#!/bin/bash
# Install and start libvirtd + QEMU for migrator's compute agent and its
# integration tests.  Idempotent: every step checks first.  Works on a
# fresh Debian 12 machine without systemd (daemons are started by hand,
# by tools/start-libvirt.sh).
#
# Usage: tools/install-libvirt.sh [PYTHON_OR_VENV]
#   PYTHON_OR_VENV  a python interpreter, or a venv directory, into which
#                   libvirt-python is pip-installed (default: the project
#                   venv next to this script, .venv/bin/python).
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/tools/lib.sh"
TARGET=${1:-$TOP/.venv}
if [ -d "$TARGET" ]; then
    PYTHON=$TARGET/bin/python
else
    PYTHON=$TARGET
fi
if ! [ -x "$PYTHON" ]; then
    echo "!! install-libvirt: no python interpreter at $PYTHON" >&2
    exit 2
fi

# Concurrent runs (parallel test workers, a benchmark) wait for each
# other, but never for ever.  The daemons started below do not inherit
# this lock (start_daemon closes it).
exec 9>/tmp/migrator-install-libvirt.script.lock
if ! flock -w 600 9; then
    echo "!! install-libvirt: another run has held /tmp/migrator-install-libvirt.script.lock for 10 minutes"
    exit 1
fi
QEMU_CONF=/etc/libvirt/qemu.conf

# 1. Packages.  libvirt-python is built from source: it also needs a C
# compiler and the headers of the interpreter it is installed into.
PACKAGES="libvirt-daemon-system libvirt-clients libvirt-dev pkg-config qemu-system-x86 qemu-utils gcc procps"
PY_INCLUDE=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
[ -f "$PY_INCLUDE/Python.h" ] || PACKAGES="$PACKAGES python3-dev"
apt_install $PACKAGES || exit 1

# 2. QEMU runs as root (/dev/kvm is root-only here) without a security driver.
conf_changed=0
set_qemu_conf() {
    local key=$1 value=$2
    if grep -Eq "^[[:space:]]*$key[[:space:]]*=[[:space:]]*$value[[:space:]]*$" "$QEMU_CONF"; then
        return
    fi
    sed -i -E "/^[[:space:]]*#?[[:space:]]*$key[[:space:]]*=/d" "$QEMU_CONF"
    echo "$key = $value" >> "$QEMU_CONF"
    conf_changed=1
}
set_qemu_conf user '"root"'
set_qemu_conf group '"root"'
set_qemu_conf security_driver '"none"'

# 3. libvirt-python in the requested interpreter.
if ! "$PYTHON" -c 'import libvirt, libvirt_qemu' 2>/dev/null; then
    step "building libvirt-python into $PYTHON (log: $MIGRATOR_LOG)"
    quietly "$PYTHON" -m pip install libvirt-python || exit 1
fi

# 4. The daemons.
if [ $conf_changed = 1 ]; then
    exec bash "$TOP/tools/start-libvirt.sh" --restart
fi
exec bash "$TOP/tools/start-libvirt.sh"
