#!/usr/bin/env bash
# The workboard CLI against the TypeScript SDK 2.x server (server2.mjs, modern-only and dual-era):
# real user flows, asserting MCP 2026-07-28 behaviour (cli/cli-server2.test.mjs).
# Installs the peer's npm dependencies when needed, builds the CLI (unless WORKBOARD_BIN names
# one), runs the tests. Usage: tests/ts-sdk/cli-test.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$HERE"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
if [ -z "${WORKBOARD_BIN:-}" ]; then
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/workboard-connect/target}"
  (cd "$ROOT" && cargo build -q -p workboard-cli)
  export WORKBOARD_BIN="$CARGO_TARGET_DIR/debug/workboard"
fi
exec node --test --test-concurrency=1 cli/
