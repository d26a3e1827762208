#!/usr/bin/env bash
# Test group: the official MCP conformance suite (@modelcontextprotocol/conformance 0.2.0-alpha.12)
# against the workboard CLI — every client scenario required for 2026-07-28 and for 2025-11-25,
# plus the OAuth client-credentials extension scenarios — with the TypeScript SDK 2.4 client
# alongside for comparison. Fails on a failure not listed in expected-failures.txt.
#
#   tests/conformance/test.sh            # both columns (ours, theirs)
#   CONFORMANCE_CLIENTS=ours tests/conformance/test.sh
#   WORKBOARD_BIN=/path/to/workboard tests/conformance/test.sh   # skip the build
# Extra arguments go to run.mjs (e.g. --scenario auth/metadata-default --revision 2026-07-28).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
timings=()
step() {
  local name="$1"; shift
  local start=$SECONDS
  echo "== $name"
  "$@"
  timings+=("$(printf '%5d s  %s' $((SECONDS - start)) "$name")")
}

install() { NODE22="$(bash "$HERE/install.sh" | tail -1)"; echo "Node: $NODE22 ($("$NODE22" --version))"; }
build() {
  if [ -n "${WORKBOARD_BIN:-}" ]; then
    echo "using WORKBOARD_BIN=$WORKBOARD_BIN"
    return
  fi
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/workboard-connect/target}"
  (cd "$ROOT" && cargo build -q -p workboard-cli)
  WORKBOARD_BIN="$CARGO_TARGET_DIR/debug/workboard"
}
status=0
selftest() {
  # The harness itself: verdicts and expected-failures rules (test/harness.test.mjs).
  WORKBOARD_BIN="$WORKBOARD_BIN" timeout 300 "$NODE22" --test "$HERE"/test/*.test.mjs || status=$?
}
run() {
  # Bounded: each scenario is bounded by the suite (--timeout-ms) and run.mjs; this bounds the whole.
  timeout 600 "$NODE22" "$HERE/run.mjs" --client "${CONFORMANCE_CLIENTS:-both}" --bin "$WORKBOARD_BIN" \
    --jobs "${CONFORMANCE_JOBS:-3}" "$@" || status=$?
}

step "install Node 22 + conformance suite (cached)" install
step "build the workboard CLI" build
step "harness self-test" selftest
step "run the client scenarios" run "$@"
echo "== timings"
printf '%s\n' "${timings[@]}"
exit "$status"
