#!/usr/bin/env bash
# Builds the wheel (build.sh --dev), installs it into a fresh virtualenv (with pytest and
# mypy, offline from the wheelhouse setup.sh keeps), then runs pytest there, from outside the
# source tree so that only the installed package can be imported: the package as installed
# (platform tag, py.typed, stubs, the library inside; mypy --strict over a typed usage file,
# and the errors it must find in a wrongly typed one), API and bad input, replay of every
# tests/vectors transcript through a Python Transport, full flows against workboard-sim.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
CACHE="${WORKBOARD_CACHE:-$HOME/.cache/workboard-connect}"
start=$SECONDS
(cd "$root" && cargo build -q -p workboard-ffi -p uniffi-bindgen -p workboard-sim)
wheel="$("$here/build.sh" --dev)"
echo "== python: built $(basename "$wheel") ($(stat -c %s "$wheel") bytes) in $((SECONDS - start)) s"

part=$SECONDS
venv="$CARGO_TARGET_DIR/python-test-venv"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check --no-index --find-links "$CACHE/python-wheelhouse" \
  pytest mypy "$wheel"
echo "== python: fresh virtualenv with the wheel installed in $((SECONDS - part)) s"

export WORKBOARD_SIM="$CARGO_TARGET_DIR/debug/workboard-sim"
export WORKBOARD_REPO="$root"
cd "$here/tests"
set +e
"$venv/bin/python" -m pytest -q -p no:cacheprovider .
rc=$?
set -e
# Exit 5 means no test ran: always a failure here (the suite is never empty).
if [ "$rc" = 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi
echo "== python: all parts took $((SECONDS - start)) s"
exit "$rc"
