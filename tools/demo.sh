#!/usr/bin/env bash
# The embedded default, end to end: start migrator-all (API, conductor,
# volume worker and compute agent in one process, SQLite, in-process
# messaging, two file backends), attach a volume to a running QEMU guest
# that keeps writing to it, migrate the volume to the other backend while
# you watch the progress bar, and check every byte.  Where libvirt and
# QEMU cannot run, the demo migrates a volume that is not attached.
# One line per step; what the installers print is in state/logs/.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
. tools/lib.sh
LIVE=1
if ! bash tools/install.sh --with-libvirt; then
  echo "== libvirt/QEMU could not be set up here: the demo migrates a volume that is not attached"
  LIVE=0
  bash tools/install.sh || exit 1
fi
VENV=${MIGRATOR_VENV:-$TOP/.venv}
export PATH="$VENV/bin:$PATH"

STATE=${MIGRATOR_DEMO_STATE:-$TOP/state/demo}
SIZE_MIB=${MIGRATOR_DEMO_SIZE_MIB:-320}
LIMIT_MIB=${MIGRATOR_DEMO_RATE_MIB:-40}
rm -rf "$STATE" && mkdir -p "$STATE"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export MIGRATOR_ENDPOINT="http://127.0.0.1:$PORT"

cat > "$STATE/migrator.conf" <<CONF
[DEFAULT]
state_path = $STATE
log_file = $STATE/migrator.log
[api]
port = $PORT
[volume]
# Throttled so that a copy of a few hundred MiB lasts long enough to watch.
volume_copy_bps_limit = $((LIMIT_MIB * 1024 * 1024))
migration_progress_report_interval = 1
CONF

step "starting migrator-all on $MIGRATOR_ENDPOINT (log: $STATE/migrator.log)"
migrator-all --config-file "$STATE/migrator.conf" 2>>"$STATE/migrator.err" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
up=0
for _ in $(seq 300); do
  kill -0 $SERVER 2>/dev/null || break
  n=$(migrator -f json backend list 2>/dev/null | python3 -c 'import json,sys; print(sum(b["state"] == "up" for b in json.load(sys.stdin)))' 2>/dev/null)
  [ "${n:-0}" = 2 ] && { up=1; break; }
  sleep 0.2
done
if [ $up = 0 ]; then
  echo "!! migrator-all did not come up"
  show_log_tail "$STATE/migrator.log"
  cat "$STATE/migrator.err" 2>/dev/null | tail -n 10 | sed 's/^/   | /'
  exit 1
fi

if [ "$LIVE" = 1 ]; then
  has_compute() { case "$(migrator service list 2>/dev/null)" in *migrator-compute*) return 0;; esac; return 1; }
  for _ in $(seq 100); do
    has_compute && break
    sleep 0.2
  done
  if has_compute; then
    step "live migration of a volume attached to a running guest"
    MIGRATOR_DEMO_SIZE_MIB=$SIZE_MIB python3 -u tools/demo_live.py
    rc=$?
    [ $rc = 3 ] || exit $rc
    echo "== falling back to a volume that is not attached"
  else
    echo "== no compute agent came up (see $STATE/migrator.log): falling back to a volume that is not attached"
  fi
fi

step "creating a ${SIZE_MIB} MiB volume on backend file1"
VOL=$(migrator -f json volume create --size ${SIZE_MIB}M --backend file1 --name demo --wait \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') || exit 1
path_of() {
  migrator -f json volume show "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["location"]["data"]["path"])'
}
SRC=$(path_of "$VOL")
step "writing known data into volume $VOL (holes at both ends, random data between)"
dd if=/dev/urandom of="$SRC" bs=1M seek=8 count=$((SIZE_MIB - 16)) conv=notrunc,fsync status=none
BEFORE=$(sha256sum < "$SRC" | cut -d' ' -f1)

step "migrating volume $VOL to backend file2"
migrator migrate "$VOL" file2 --wait || exit 1

DST=$(path_of "$VOL")
AFTER=$(sha256sum < "$DST" | cut -d' ' -f1)
step "data check: source sha256 $BEFORE, destination sha256 $AFTER ($DST)"
if [ "$BEFORE" != "$AFTER" ]; then
  echo "DATA CHECK FAILED"; exit 1
fi
[ -e "$SRC" ] && { echo "the old copy $SRC was not deleted"; exit 1; }
echo "Data check passed: every byte arrived; the old copy on file1 is gone."
