#!/bin/bash
# Install and start libvirtd + QEMU for migrator's compute agent and its
# integration tests.  Idempotent: every step checks first.  Works on a
# fresh Debian 12 machine without systemd (daemons are started by hand).
#
# Usage: tools/install-libvirt.sh [PYTHON_OR_VENV]
#   PYTHON_OR_VENV  a python interpreter, or a venv directory, into which
#                   libvirt-python is pip-installed (default: the project
#                   venv next to this script, .venv/bin/python).
set -euo pipefail

HERE=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${1:-$HERE/.venv}
if [ -d "$TARGET" ]; then
    PYTHON=$TARGET/bin/python
else
    PYTHON=$TARGET
fi
if ! [ -x "$PYTHON" ]; then
    echo "install-libvirt: no python interpreter at $PYTHON" >&2
    exit 2
fi

# Concurrent runs (parallel test workers) wait for each other.
exec 9>/tmp/migrator-install-libvirt.script.lock
flock 9
URI=qemu:///system
QEMU_CONF=/etc/libvirt/qemu.conf
PACKAGES="libvirt-daemon-system libvirt-clients libvirt-dev pkg-config qemu-system-x86 qemu-utils"

log() { echo "install-libvirt: $*" >&2; }

# 1. Packages (skip apt entirely when everything is already there).
# libvirt-python is built from source: it also needs a C compiler and
# the headers of the interpreter it is installed into.
PY_INCLUDE=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
if ! [ -f "$PY_INCLUDE/Python.h" ]; then
    PACKAGES="$PACKAGES python3-dev"
fi
if ! command -v gcc >/dev/null 2>&1; then
    PACKAGES="$PACKAGES gcc"
fi
missing=""
for pkg in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null \
            | grep -q "install ok installed"; then
        missing="$missing $pkg"
    fi
done
if [ -n "$missing" ]; then
    log "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    # Do not let the packages' maintainer scripts try to start services.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        remove_policy=1
    fi
    apt-get update -qq || apt-get update
    apt-get install -y -q --no-install-recommends $missing
    if [ "${remove_policy:-0}" = 1 ]; then
        rm -f /usr/sbin/policy-rc.d
    fi
else
    log "packages already installed"
fi

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
    log "pip installing libvirt-python into $PYTHON"
    "$PYTHON" -m pip install -q libvirt-python
fi

# 4. Daemons (no systemd here).
running() { pgrep -x "$1" >/dev/null 2>&1; }
if ! running virtlogd; then
    log "starting virtlogd"
    virtlogd -d
fi
if running libvirtd && [ "$conf_changed" = 1 ]; then
    log "qemu.conf changed: restarting libvirtd"
    pkill -x libvirtd || true
    for _ in $(seq 50); do running libvirtd || break; sleep 0.1; done
fi
if ! running libvirtd; then
    log "starting libvirtd"
    libvirtd -d
fi

# 5. Wait until libvirtd answers.
for _ in $(seq 300); do
    if virsh -c "$URI" version >/dev/null 2>&1; then
        log "libvirtd answers on $URI"
        exit 0
    fi
    sleep 0.1
done
log "libvirtd did not answer on $URI"
virsh -c "$URI" version
exit 1
