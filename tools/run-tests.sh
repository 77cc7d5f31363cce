#!/usr/bin/env bash
# Run migrator's whole test suite (installing what it needs first): pep8,
# then every test, and print the closing line "N passed, N failed,
# N skipped".  A skipped test fails the run: a test that cannot run here
# is a defect.  One line per step; the full output is in state/logs/ and
# .stestr-output.log, and only failures are shown.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
. tools/lib.sh
bash tools/install.sh --with-libvirt || { echo "0 passed, 1 failed"; exit 1; }
VENV=${MIGRATOR_VENV:-$TOP/.venv}
export PATH="$VENV/bin:$PATH"

extra_failed=0
PEP8_LOG=$TOP/state/logs/pep8.log
step "pep8: flake8 with hacking (log: $PEP8_LOG)"
if ! flake8 >"$PEP8_LOG" 2>&1; then
  echo "!! pep8 failed:"
  head -n 50 "$PEP8_LOG" | sed 's/^/   | /'
  extra_failed=1
fi

WORKERS=${MIGRATOR_TEST_CONCURRENCY:-2}
step "running the test suite: stestr, $WORKERS workers (output: .stestr-output.log)"
rm -rf .stestr
stestr init >/dev/null
stestr run --concurrency "$WORKERS" "$@" > .stestr-output.log 2>&1
rc=$?
if [ $rc -ne 0 ]; then
  echo "!! failing tests (details in .stestr-output.log):"
  grep -E "^\{[0-9]+\} .* \.\.\. (FAILED|SKIPPED)" .stestr-output.log \
    | head -n 50 | sed 's/^/   | /'
  grep -qE "^\{[0-9]+\} " .stestr-output.log || tail -n 30 .stestr-output.log | sed 's/^/   | /'
fi
# Count from the subunit stream, not from stestr's summary.
stestr last --subunit 2>/dev/null \
  | "$VENV/bin/python" tools/count_results.py --extra-failed "$extra_failed"
counts_rc=$?
[ $rc -eq 0 ] && [ $counts_rc -eq 0 ]
