#!/usr/bin/env bash
# End-to-end figures (issue 4): requests and round trips from stored credentials to the first
# tools/list, ours vs the official TypeScript SDK client against the same servers; tool-call
# overhead against a raw reqwest POST of the same bytes; memory per initialized MCP session
# with many sessions sharing one HTTP client. Prints figures; asserts nothing about speed.
#   scripts/bench.sh [--calls N] [--sessions N]      (defaults 2000 and 10000)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/workboard-connect/target}"
CALLS=2000 SESSIONS=10000
while [ $# -gt 0 ]; do
    case "$1" in
        --calls) CALLS="$2"; shift 2 ;;
        --sessions) SESSIONS="$2"; shift 2 ;;
        *) echo "usage: scripts/bench.sh [--calls N] [--sessions N]" >&2; exit 2 ;;
    esac
done

bash scripts/setup-rust.sh >/dev/null
(cd tests/ts-sdk && { [ -f node_modules/.package-lock.json ] && [ ! package-lock.json -nt node_modules/.package-lock.json ]; } || npm ci --no-audit --no-fund >/dev/null)
cargo build --release -q -p workboard-sim --bin workboard-sim
cargo build --release -q -p workboard-native --example bench
BIN="$CARGO_TARGET_DIR/release"

tmp="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

# Wait for a server's first stdout line ("listening on URL") and print the URL.
listen_url() {
    local file="$1" i
    for i in $(seq 1 200); do
        if grep -q 'listening on' "$file" 2>/dev/null; then sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$file" | head -1; return 0; fi
        sleep 0.05
    done
    echo "server did not start: $(cat "$file")" >&2; return 1
}

# The WorkBoard simulator in its own process (so memory figures are the client's alone).
mkfifo "$tmp/sim.in"
"$BIN/workboard-sim" --port 0 --json-only --exit-on-stdin-close < "$tmp/sim.in" > "$tmp/sim.out" 2>"$tmp/sim.err" &
pids+=($!); exec 7>"$tmp/sim.in"
SIM="$(listen_url "$tmp/sim.out")"
SIM_MCP="$SIM/wb/mcp"
SIM_TOKEN=wbp_demo_personal_token

# The TypeScript SDK peer (JSON responses), same token scheme.
TS_TOKEN=bench-token
mkfifo "$tmp/ts.in"
node tests/ts-sdk/server.mjs --port 0 --token "$TS_TOKEN" --json-response < "$tmp/ts.in" > "$tmp/ts.out" 2>"$tmp/ts.err" &
pids+=($!); exec 8>"$tmp/ts.in"
TS_MCP="$(listen_url "$tmp/ts.out")"

echo "== TypeScript SDK client (@modelcontextprotocol/sdk), credentials → first tools/list"
for target in "$SIM_MCP $SIM_TOKEN" "$TS_MCP $TS_TOKEN"; do
    set -- $target
    node tests/ts-sdk/client-roundtrips.mjs "$1" --token "$2" \
      | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s);console.log(`[1] ${process.argv[1]}: ${r.http_requests} HTTP requests, ${r.sequential_round_trips} sequential round trips (${r.tools.length} tools): ${r.requests.map(q=>q.method+" "+(q.rpc??"")).join(" | ")}`)})' "$1"
done

echo "== workboard-connect (native), same servers; then tool-call overhead and memory (against the simulator)"
"$BIN/examples/bench" --server "$SIM_MCP" "$SIM_TOKEN" --server "$TS_MCP" "$TS_TOKEN" --calls "$CALLS" --sessions "$SESSIONS"
