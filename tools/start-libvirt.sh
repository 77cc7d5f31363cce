#!/bin/bash
# Make virtlogd and libvirtd run and answer on qemu:///system (there is
# no systemd here).  Safe to run at any time, also while an old libvirtd
# is still shutting down: it waits for that one to go, then starts a new
# one.  The daemons keep no descriptor of this script or of its caller.
#
# Usage: tools/start-libvirt.sh [--restart]
#   --restart  stop a running libvirtd first (its configuration changed)
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/tools/lib.sh"
URI=qemu:///system
# One starter at a time (the install script, tests restarting libvirtd).
exec 8>/tmp/migrator-start-libvirt.lock
flock -w 300 8 || { echo "!! start-libvirt: lock busy for 5 minutes"; exit 1; }

if [ "${1:-}" = "--restart" ] && [ -n "$(pids_of libvirtd)" ]; then
    step "restarting libvirtd (its configuration changed)"
    stop_daemon libvirtd || exit 1
fi
# virtlogd answers when its socket accepts a connection: a dying one has
# closed it already.
VIRTLOGD_UP="/usr/bin/python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.connect(\"/run/libvirt/virtlogd-sock\")'"
mkdir -p /run/libvirt
wait_for_daemon virtlogd 60 "$VIRTLOGD_UP" virtlogd -d || exit 1
wait_for_daemon libvirtd 120 "virsh -c $URI version" libvirtd -d || exit 1
