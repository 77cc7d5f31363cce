# Shared by migrator's shell scripts (sourced, never run).
#
# Quiet by design: a script prints one line per step ("== ..."); what the
# step's commands print goes to one log file, and only when a step fails
# is the end of that log shown.  Daemons are started with no descriptor
# of the script (a lock, a pipe of the caller) left open in them.

TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
MIGRATOR_LOG=${MIGRATOR_LOG:-$TOP/state/logs/install.log}
export MIGRATOR_LOG
mkdir -p "$(dirname "$MIGRATOR_LOG")"

# step MESSAGE: say what is being done now (one line).
step() { echo "== $*"; }

# show_log_tail [LOG]: the end of a log, indented, after a failure.
show_log_tail() {
  local log=${1:-$MIGRATOR_LOG}
  echo "   last lines of $log:"
  tail -n "${MIGRATOR_LOG_TAIL:-30}" "$log" 2>/dev/null | sed 's/^/   | /'
}

# quietly CMD...: run CMD with its output in the log; on failure show the
# log's tail and return CMD's exit status.
quietly() {
  echo "+ $*" >>"$MIGRATOR_LOG"
  "$@" </dev/null >>"$MIGRATOR_LOG" 2>&1
  local rc=$?
  if [ $rc -ne 0 ]; then
    echo "!! failed (exit $rc): $*"
    show_log_tail
  fi
  return $rc
}

# apt_install PKG...: install the Debian packages that are missing, with
# no service started by their maintainer scripts (there is no init here;
# migrator's scripts start the daemons they need themselves).
apt_install() {
  local missing="" pkg rc
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null \
      | grep -q "install ok installed" || missing="$missing $pkg"
  done
  [ -n "$missing" ] || return 0
  step "installing system packages:$missing (log: $MIGRATOR_LOG)"
  export DEBIAN_FRONTEND=noninteractive
  local policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    policy=1
  fi
  quietly apt-get update -q && \
    quietly apt-get install -y -q --no-install-recommends $missing
  rc=$?
  [ $policy = 1 ] && rm -f /usr/sbin/policy-rc.d
  return $rc
}

# pids_of NAME: the pids of live (not zombie) processes whose command name
# is NAME.  Reads /proc itself: a minimal root may have no procps.
pids_of() {
  local p stat ns
  ns=$(readlink /proc/self/ns/mnt)
  for p in /proc/[0-9]*; do
    [ "$(cat "$p/comm" 2>/dev/null)" = "$1" ] || continue
    # Only this machine's: a daemon of a chroot or a container (another
    # mount namespace) shares the name, not the sockets.
    [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$ns" ] || continue
    stat=$(cat "$p/stat" 2>/dev/null) || continue
    stat=${stat##*) }
    [ "${stat%% *}" = Z ] && continue
    echo "${p#/proc/}"
  done
}

# start_daemon LOG CMD...: start CMD (which detaches itself, such as
# `libvirtd -d`) with stdin from /dev/null, stdout and stderr appended to
# LOG and every other descriptor of this shell closed first, so that the
# daemon holds neither our locks nor our caller's pipes.
start_daemon() {
  local log=$1
  shift
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
    done
    exec "$@" </dev/null >>"$log" 2>&1
  )
}

# wait_for_daemon NAME TIMEOUT CHECK START...: make NAME answer CHECK.
# CHECK passes: done.  No live NAME process: START it.  A process that
# does not answer yet is starting or still shutting down: wait for it
# (once gone, it is started anew).  Fails after TIMEOUT seconds.
wait_for_daemon() {
  local name=$1 timeout=$2 check=$3
  shift 3
  local deadline=$(( $(date +%s) + timeout )) started=0
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if eval "$check" >/dev/null 2>&1; then
      return 0
    fi
    if [ -z "$(pids_of "$name")" ]; then
      [ $started = 0 ] && step "starting $name"
      started=$((started + 1))
      start_daemon "$MIGRATOR_LOG" "$@"
    fi
    sleep 0.2
  done
  echo "!! $name did not answer within $timeout s"
  show_log_tail
  return 1
}

# stop_daemon NAME [TIMEOUT]: SIGTERM every NAME and wait until all are
# gone (SIGKILL after TIMEOUT seconds).
stop_daemon() {
  local name=$1 timeout=${2:-30} pids
  pids=$(pids_of "$name")
  [ -n "$pids" ] || return 0
  kill $pids 2>/dev/null
  local deadline=$(( $(date +%s) + timeout ))
  while [ -n "$(pids_of "$name")" ]; do
    if [ "$(date +%s)" -ge $((deadline + 10)) ]; then
      echo "!! $name would not stop"
      return 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      kill -9 $(pids_of "$name") 2>/dev/null
    fi
    sleep 0.1
  done
}
