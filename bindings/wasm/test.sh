#!/usr/bin/env bash
# The wasm binding's whole test run: setup, build (both entries: the main one and
# `workboard-connect/token`), Node tests (vector replay, the client-layer
# behaviour suite, API, the MCP surface's idioms, hostile input, flows against workboard-sim in
# both MCP eras, and on the token entry), the headless Chromium tests (examples/web: sign-in, an elicitation answered in
# the page in both eras, screenshots; a Vite build), the packed package installed into fresh
# consumer projects (Node ESM, TypeScript strict, Vite), and the size report (failing above the
# ceilings in size.sh), on the route a fresh machine takes
# (route.sh: rustup whenever rustup has the wasm32 target). Then the other route too: a second
# build into its own target and output dirs, and the Node API, hostile-input, vector, behaviour
# and simulator tests on it, so both routes stay green (WASM_BOTH_ROUTES=0 skips it; skipped
# with a note where that route cannot build).
# Prints each part's elapsed time. Exits non-zero on any failure.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TARGET_BASE="${CARGO_TARGET_DIR:-$ROOT/target}"

START=$SECONDS
PART_START=$SECONDS
part() { # part NAME: prints the time of the part that just ended
  echo "== wasm test: $1 took $((SECONDS - PART_START)) s"
  PART_START=$SECONDS
}

"$HERE/setup.sh"
ROUTE="$("$HERE/route.sh")"
part "setup ($ROUTE route)"
# The default route's builds go to npm/pkg (the main entry) and npm/pkg-token (the
# `workboard-connect/token` entry, without the sign-in flows), where the package and its
# tests load them from.
WASM_ROUTE="$ROUTE" WASM_OUT="$HERE/npm/pkg" "$HERE/build.sh"
WASM_ROUTE="$ROUTE" WASM_ENTRY=token WASM_OUT="$HERE/npm/pkg-token" "$HERE/build.sh"
part "build ($ROUTE route, both entries)"

# The simulator binary for the smoke, browser and Vite tests, and examples/rust-service (the
# v1 code exchange the browser test's page posts to), built in the workspace's target dir so
# the `cargo test --workspace` build is reused.
E2E_TARGET_DIR="${E2E_TARGET_DIR:-$TARGET_BASE}"
(cd "$ROOT" && CARGO_TARGET_DIR="$E2E_TARGET_DIR" cargo build -q \
  -p workboard-sim --bin workboard-sim -p example-rust-service --bin example-rust-service)
export WORKBOARD_SIM_BIN="$E2E_TARGET_DIR/debug/workboard-sim"
export EXAMPLE_RUST_SERVICE_BIN="$E2E_TARGET_DIR/debug/example-rust-service"
part "simulator and rust-service build"

cd "$HERE/npm"
node --test --test-concurrency=1 test/*.test.mjs
# The MCP surface's suites again on the token entry (token.test.mjs checks the rest of it).
WORKBOARD_ENTRY=../token-node.js node --test --test-concurrency=1 test/sim-eras.test.mjs test/surface.test.mjs
part "Node and Chromium tests ($ROUTE route)"

# The package as published: `npm pack`, the tarball `npm install`ed into fresh Node ESM,
# TypeScript (strict) and Vite projects (test/packed/consumers.test.mjs).
node --test test/packed/consumers.test.mjs
part "npm pack + fresh consumer projects (Node ESM, TypeScript strict, Vite)"

# The same Node tests (not the browser ones) on Node 18, the oldest supported version.
# scripts/setup-node.sh prints its path (installed by setup.sh; idempotent, so instant here).
NODE18="$(bash "$ROOT/scripts/setup-node.sh" 18.20.8 2>/dev/null || true)"
if [ -n "$NODE18" ] && [ -x "$NODE18" ]; then
  echo "== Node $("$NODE18" --version): API, hostile input, vectors, behaviour suite, MCP surface, simulator flows (both eras), types, token entry"
  "$NODE18" --test test/api.test.mjs test/hostile.test.mjs test/vectors.test.mjs test/behaviour.test.mjs test/surface.test.mjs \
    test/sim.test.mjs test/sim-eras.test.mjs test/types.test.mjs test/token.test.mjs
else
  echo "Node 18 is only installed on Linux x86_64 (setup.sh); skipped here" >&2
  [ "$(uname -sm)" != "Linux x86_64" ] || exit 1
fi
part "Node 18 tests ($ROUTE route)"

"$HERE/size.sh"

# The other route: its own target dir and output dir (never the default route's), and a copy
# of the package's entry points and tests next to its pkg/, so `../node.js` loads that build.
if [ "${WASM_BOTH_ROUTES:-1}" = 1 ]; then
  if [ "$ROUTE" = rustup ]; then OTHER=build-std; else OTHER=rustup; fi
  if [ "$OTHER" = build-std ]; then
    WASM_ROUTE=build-std "$HERE/setup.sh"
  elif ! { command -v rustup >/dev/null && rustup target list --installed 2>/dev/null | grep -qx 'wasm32-unknown-unknown'; }; then
    echo "== wasm test: the rustup route cannot build here (rustup has no wasm32 target); only the build-std route was tested" >&2
    OTHER=""
  fi
  if [ -n "$OTHER" ]; then
    OTHER_DIR="$TARGET_BASE/wasm-npm-$OTHER"
    part "setup ($OTHER route)"
    WASM_ROUTE="$OTHER" WASM_OUT="$OTHER_DIR/pkg" "$HERE/build.sh"
    WASM_ROUTE="$OTHER" WASM_ENTRY=token WASM_OUT="$OTHER_DIR/pkg-token" "$HERE/build.sh"
    part "build ($OTHER route, both entries)"
    rm -rf "$OTHER_DIR/test"
    cp "$HERE/npm/package.json" "$HERE/npm/index.js" "$HERE/npm/index.d.ts" "$HERE/npm/node.js" \
      "$HERE/npm/node-init.js" "$HERE/npm/token-node.js" "$OTHER_DIR/"
    cp -r "$HERE/npm/test" "$OTHER_DIR/test"
    (cd "$OTHER_DIR" && export WORKBOARD_VECTOR_DIR="$ROOT/tests/vectors/" WORKBOARD_BEHAVIOUR_DIR="$ROOT/tests/behaviour/" &&
      node --test --test-concurrency=1 test/api.test.mjs test/hostile.test.mjs test/vectors.test.mjs \
        test/behaviour.test.mjs test/surface.test.mjs test/sim.test.mjs test/sim-eras.test.mjs test/token.test.mjs &&
      WORKBOARD_ENTRY=../token-node.js node --test --test-concurrency=1 test/sim-eras.test.mjs test/surface.test.mjs)
    part "Node API, hostile, vector, behaviour, surface, simulator and token-entry tests ($OTHER route)"
    WASM_OUT="$OTHER_DIR/pkg" "$HERE/size.sh"
  fi
fi
echo "== wasm test: all parts took $((SECONDS - START)) s"
