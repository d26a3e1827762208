#!/usr/bin/env bash
# Figures for `workboard bridge` (issue 17): start to the first answered tools/list, and the
# latency a tool call gains through the bridge vs a direct HTTP client, with mcp-remote (through
# node, as `npx -y mcp-remote` runs it) measured side by side. Against the simulator (dual
# era), with the official TypeScript SDK clients (tests/ts-sdk/bench-bridge.mjs). Prints
# figures; asserts nothing about speed.
#   scripts/bench-bridge.sh [--calls N] [--starts N] [--no-mcp-remote]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/workboard-connect/target}"
CALLS=200 STARTS=10 REMOTE=1
MCP_REMOTE_VERSION=0.15.1
while [ $# -gt 0 ]; do
    case "$1" in
        --calls) CALLS="${2:?}"; shift 2 ;;
        --starts) STARTS="${2:?}"; shift 2 ;;
        --no-mcp-remote) REMOTE=0; shift ;;
        *) echo "usage: scripts/bench-bridge.sh [--calls N] [--starts N] [--no-mcp-remote]" >&2; exit 2 ;;
    esac
done
for n in "$CALLS" "$STARTS"; do case "$n" in ''|*[!0-9]*|0) echo "counts must be positive integers" >&2; exit 2 ;; esac; done

bash scripts/setup-rust.sh >/dev/null
(cd tests/ts-sdk && { [ -f node_modules/.package-lock.json ] && [ ! package-lock.json -nt node_modules/.package-lock.json ]; } || npm ci --no-audit --no-fund >/dev/null)
cargo build --release -q -p workboard-cli
BIN="$CARGO_TARGET_DIR/release/workboard"

remote_args=()
if [ "$REMOTE" = 1 ]; then
    # mcp-remote from the npm registry, once, into the cache (what `npx -y` would fetch).
    dir="$HOME/.cache/workboard-connect/mcp-remote-$MCP_REMOTE_VERSION"
    if [ ! -f "$dir/node_modules/mcp-remote/package.json" ]; then
        mkdir -p "$dir"
        npm install --prefix "$dir" --no-audit --no-fund "mcp-remote@$MCP_REMOTE_VERSION" >/dev/null
    fi
    proxy="$(node -e "const p=require('$dir/node_modules/mcp-remote/package.json'); const b=typeof p.bin==='string'?p.bin:(p.bin['mcp-remote']||Object.values(p.bin)[0]); console.log(require('path').join('$dir/node_modules/mcp-remote', b))")"
    remote_args=(--mcp-remote "$proxy")
fi

tmp="$(mktemp -d)"
sim_pid=""
cleanup() { [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
"$BIN" --json sim --port 0 > "$tmp/sim.out" 2>/dev/null &
sim_pid=$!
for _ in $(seq 1 200); do grep -q listening "$tmp/sim.out" 2>/dev/null && break; sleep 0.05; done
base="$(node -e "console.log(JSON.parse(require('fs').readFileSync('$tmp/sim.out','utf8').split('\n')[0]).result.listening)")"
url="$base/wb/mcp"
token=wbp_demo_personal_token
echo "$token" | "$BIN" --server "$url" --store "$tmp/store.json" token set >/dev/null

echo "== workboard bridge vs direct HTTP$([ "$REMOTE" = 1 ] && echo " and mcp-remote $MCP_REMOTE_VERSION") (simulator at $url; $CALLS calls, $STARTS starts)"
(cd tests/ts-sdk && node bench-bridge.mjs --bin "$BIN" --url "$url" --store "$tmp/store.json" --token "$token" \
    --calls "$CALLS" --starts "$STARTS" "${remote_args[@]}")
