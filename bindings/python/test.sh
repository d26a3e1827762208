#!/usr/bin/env bash
# Generates the Python bindings, then runs pytest: API and bad input, replay of every
# tests/vectors transcript through a Python Transport, full flows against workboard-sim.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
"$here/build.sh"
(cd "$root" && cargo build -q -p workboard-sim)
python3 -c "import pytest" 2>/dev/null || python3 -m pip install -q pytest
export WORKBOARD_SIM="$CARGO_TARGET_DIR/debug/workboard-sim"
export WORKBOARD_REPO="$root"
cd "$here"
set +e
python3 -m pytest -q tests
rc=$?
set -e
# Exit 5 means no test ran: always a failure here (the suite is never empty).
if [ "$rc" = 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi
exit "$rc"
