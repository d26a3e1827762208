#!/usr/bin/env bash
# Installs the pinned TypeScript MCP SDK (idempotently), self-tests the peer servers + baseline
# clients (test/), then runs the workboard CLI against the SDK 2.x server (cli-test.sh: builds
# the CLI unless WORKBOARD_BIN names one). Usage: tests/ts-sdk/test.sh
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v node >/dev/null 2>&1 || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "test.sh: node >= 20 is required (the TypeScript SDK 2.x peer)" >&2
  exit 1
fi

# Install only when node_modules is missing or older than the lock file.
if [ -f package-lock.json ]; then
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
  fi
else
  npm install --no-audit --no-fund
fi

node --test test/
exec bash ./cli-test.sh
