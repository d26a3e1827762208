#!/usr/bin/env bash
# The wasm binding's whole test run: setup, build, Node tests (vector replay, API, smoke test
# against workboard-sim), the headless Chromium test of examples/web, and the size report.
# Exits non-zero on any failure.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

"$HERE/setup.sh"
"$HERE/build.sh"

# The simulator binary for the smoke and browser tests (the workspace's target dir, so the
# `cargo test --workspace` build is reused).
E2E_TARGET_DIR="${E2E_TARGET_DIR:-${CARGO_TARGET_DIR:-$ROOT/target}}"
(cd "$ROOT" && CARGO_TARGET_DIR="$E2E_TARGET_DIR" cargo build -q -p workboard-sim --bin workboard-sim)
export WORKBOARD_SIM_BIN="$E2E_TARGET_DIR/debug/workboard-sim"

cd "$HERE/npm"
node --test --test-concurrency=1 test/*.test.mjs

"$HERE/size.sh"
