#!/usr/bin/env bash
# Run migrator's whole test suite (installing what it needs first) and
# print the closing line "N passed, N failed, N skipped".  A skipped test
# fails the run: a test that cannot run here is a defect.
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/install.sh --with-libvirt || { echo "0 passed, 1 failed"; exit 1; }
VENV=${MIGRATOR_VENV:-$(pwd)/.venv}
export PATH="$VENV/bin:$PATH"

rm -rf .stestr
stestr init >/dev/null
stestr run --concurrency "${MIGRATOR_TEST_CONCURRENCY:-2}" "$@" \
  > .stestr-output.log 2>&1
rc=$?
tail -n 40 .stestr-output.log
# Count from the subunit stream, not from stestr's summary.
stestr last --subunit 2>/dev/null | "$VENV/bin/python" tools/count_results.py
counts_rc=$?
if [ $rc -ne 0 ] || [ $counts_rc -ne 0 ]; then
  grep -E "^(FAIL|ERROR):|^\{[0-9]+\} .*\[.*\] \.\.\. (FAILED|SKIPPED)" \
    .stestr-output.log | head -n 50
  exit 1
fi
exit 0
