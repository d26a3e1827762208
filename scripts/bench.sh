#!/usr/bin/env bash
# End-to-end figures. Prints figures; asserts nothing about speed.
#
# MCP 2026-07-28 (issue 13), against the TypeScript SDK 2.x server (tests/ts-sdk/server2.mjs
# --mode modern, with the SDK's default tools/list ttlMs 0 and with --tools-ttl 60000) and the
# simulator (workboard-sim --era modern and --era dual), ours (the native client; example
# bench_modern) vs the TypeScript SDK 2.x client (tests/ts-sdk/client-roundtrips2.mjs):
#   - HTTP requests and sequential round trips from stored credentials to the first
#     tools/list (limit: 1 request and 1 round trip per page of tools on a modern server);
#   - with a cached era (and, where the server gave one, a fresh tools/list ttl), the
#     requests before the first tools/call goes out (limit: 0) and those of a tools/list;
#   - tool-call overhead: median and p95 over --modern-calls N calls, the client vs a raw POST
#     of the same bytes (reqwest for ours, node fetch for the TypeScript client).
# 2025-era figures (issue 4): the same against the SDK 1.x server and workboard-sim --era legacy,
# tool-call overhead against a raw reqwest POST, memory per initialized MCP session.
#   scripts/bench.sh [--modern-calls N] [--calls N] [--sessions N] [--only modern|legacy]
#   (defaults 200, 2000, 10000; both parts)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/workboard-connect/target}"
CALLS=2000 SESSIONS=10000 MODERN_CALLS=200 ONLY=all
usage() { echo "usage: scripts/bench.sh [--modern-calls N] [--calls N] [--sessions N] [--only modern|legacy]" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --calls) CALLS="${2:?}"; shift 2 ;;
        --sessions) SESSIONS="${2:?}"; shift 2 ;;
        --modern-calls) MODERN_CALLS="${2:?}"; shift 2 ;;
        --only) ONLY="${2:?}"; shift 2 ;;
        *) usage ;;
    esac
done
case "$ONLY" in all|modern|legacy) ;; *) usage ;; esac
for n in "$CALLS" "$SESSIONS" "$MODERN_CALLS"; do
    case "$n" in ''|*[!0-9]*|0) usage ;; esac
done
if ! command -v node >/dev/null 2>&1 || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
    echo "bench.sh: node >= 20 is required (the TypeScript SDK 2.x peer and client)" >&2
    exit 1
fi

bash scripts/setup-rust.sh >/dev/null
(cd tests/ts-sdk && { [ -f node_modules/.package-lock.json ] && [ ! package-lock.json -nt node_modules/.package-lock.json ]; } || npm ci --no-audit --no-fund >/dev/null)
cargo build --release -q -p workboard-sim --bin workboard-sim
cargo build --release -q -p workboard-native --example bench --example bench_modern
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

# A server started in the background with a fifo as stdin (it exits when the fifo closes);
# its listening URL goes into the variable VAR. Usage: start VAR NAME FD COMMAND...
start() {
    local var="$1" name="$2" fd="$3" url; shift 3
    mkfifo "$tmp/$name.in"
    "$@" < "$tmp/$name.in" > "$tmp/$name.out" 2>"$tmp/$name.err" &
    pids+=($!)
    eval "exec $fd>\"\$tmp/\$name.in\""
    url="$(listen_url "$tmp/$name.out")"
    printf -v "$var" '%s' "$url"
}

modern_part() {
    local TOKEN=bench-token SIMTOK=wbp_demo_personal_token
    local ts ts_ttl sim_m sim_d
    start ts ts2 11 node tests/ts-sdk/server2.mjs --mode modern --port 0 --token "$TOKEN"
    start ts_ttl ts2ttl 12 node tests/ts-sdk/server2.mjs --mode modern --port 0 --token "$TOKEN" --tools-ttl 60000
    start sim_m simm 13 "$BIN/workboard-sim" --port 0 --era modern --json-only --exit-on-stdin-close
    start sim_d simd 14 "$BIN/workboard-sim" --port 0 --era dual --json-only --exit-on-stdin-close
    # label url token stats tool args
    local targets=(
        "server2.mjs --mode modern (ttlMs 0)|$ts|$TOKEN|${ts%/mcp}/__stats|add|{\"a\":2,\"b\":40}"
        "server2.mjs --mode modern --tools-ttl 60000|$ts_ttl|$TOKEN|${ts_ttl%/mcp}/__stats|add|{\"a\":2,\"b\":40}"
        "workboard-sim --era modern|$sim_m/wb/mcp|$SIMTOK|$sim_m/__sim/stats|get_current_user|{}"
        "workboard-sim --era dual|$sim_d/wb/mcp|$SIMTOK|$sim_d/__sim/stats|get_current_user|{}"
    )
    local args=() t label url token stats tool targs
    : > "$tmp/ts.jsonl"
    for t in "${targets[@]}"; do
        IFS='|' read -r label url token stats tool targs <<<"$t"
        args+=(--target "$(node -e 'const [l,u,k,s,t,a]=process.argv.slice(1);console.log(JSON.stringify({label:l,url:u,token:k,stats:s,tool:t,args:JSON.parse(a)}))' "$label" "$url" "$token" "$stats" "$tool" "$targs")")
        # The TypeScript SDK 2.x client: fresh (auto negotiation), then from a cached era with
        # a tool call and the overhead run.
        local fresh cached
        fresh="$(node tests/ts-sdk/client-roundtrips2.mjs "$url" --token "$token")"
        cached="$(node tests/ts-sdk/client-roundtrips2.mjs "$url" --token "$token" --cached-era --call "$tool" --args "$targs" --calls "$MODERN_CALLS")"
        node -e 'console.log(JSON.stringify({label:process.argv[1],fresh:JSON.parse(process.argv[2]),cached:JSON.parse(process.argv[3])}))' "$label" "$fresh" "$cached" >> "$tmp/ts.jsonl"
    done
    "$BIN/examples/bench_modern" --calls "$MODERN_CALLS" "${args[@]}" > "$tmp/ours.jsonl"
    node - "$tmp/ours.jsonl" "$tmp/ts.jsonl" <<'JS'
const fs = require('node:fs');
const lines = (f) => fs.readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
const [ours, ts] = [lines(process.argv[2]), lines(process.argv[3])];
const us = (x) => `${Math.round(x)}`;
const sd = (x) => `${x < 0 ? '−' : '+'}${Math.abs(Math.round(x))}`;
const rows = [];
const pad = (cells) => `| ${cells.join(' | ')} |`;
console.log('\n== MCP 2026-07-28: stored credentials → first tools/list, cached era, tool-call overhead');
console.log(pad(['server', 'client', 'first tools/list: requests / round trips', 'requests sent', 'limit (1 per page)', 'cached era: requests before 1st tools/call', 'cached era: tools/list requests', `call median µs (raw)`, `call p95 µs (raw)`]));
console.log(pad(Array(9).fill('---')));
for (const o of ours) {
  const t = ts.find((x) => x.label === o.label);
  const f = o.fresh;
  const ok = f.http_requests === f.tools_list_pages && f.sequential_round_trips === f.tools_list_pages && f.requests.every((r) => r.endsWith('tools/list'));
  const c = o.call;
  console.log(pad([o.label, 'workboard-connect (native)', `${f.http_requests} / ${f.sequential_round_trips}`, `${f.requests.join(', ')} (${f.tools} tools; server counted ${f.server_requests})`, `${ok ? 'ok' : 'OVER'} (${f.tools_list_pages} page${f.tools_list_pages > 1 ? 's' : ''})`, `${o.cached.before_first_call}${o.cached.before_first_call === 0 ? ' (limit 0: ok)' : ' (limit 0: OVER)'}`, `${o.cached.list_http_requests}`, `${us(c.ours_median_us)} (${us(c.raw_median_us)}) → ${sd(c.ours_median_us - c.raw_median_us)}`, `${us(c.ours_p95_us)} (${us(c.raw_p95_us)})`]));
  if (t) {
    const tf = t.fresh, tc = t.cached, co = tc.call_overhead;
    const pages = tf.requests.filter((r) => r.rpc === 'tools/list').length;
    const tok = tf.http_requests === pages && tf.sequential_round_trips === pages;
    const beforeCall = tc.requests.findIndex((r) => r.rpc === 'tools/call');
    const tcList = tc.requests.filter((r) => r.rpc === 'tools/list').length;
    const other = beforeCall - tcList;
    console.log(pad([o.label, 'TypeScript SDK 2.4 client', `${tf.http_requests} / ${tf.sequential_round_trips}`, `${tf.requests.map((r) => `${r.method} ${r.rpc ?? ''}`.trim()).join(', ')} (${tf.tools.length} tools)`, `${tok ? 'ok' : 'OVER'} (${pages} page${pages > 1 ? 's' : ''})`, `${other} besides the tools/list it was asked for first`, `${tcList}`, co ? `${us(co.sdk_median_us)} (${us(co.raw_median_us)}) → ${sd(co.sdk_median_us - co.raw_median_us)}` : '-', co ? `${us(co.sdk_p95_us)} (${us(co.raw_p95_us)})` : '-']));
  }
}
console.log(`(call overhead: ${ours[0]?.call.calls} calls each, interleaved with raw POSTs of the same bytes — reqwest for ours, node fetch for the TypeScript client; loopback)`);
console.log('\nraw JSON (ours):');
for (const o of ours) console.log(JSON.stringify(o));
JS
}

legacy_part() {
# The WorkBoard simulator, 2025 era only, in its own process (so memory figures are the
# client's alone).
mkfifo "$tmp/sim.in"
"$BIN/workboard-sim" --port 0 --era legacy --json-only --exit-on-stdin-close < "$tmp/sim.in" > "$tmp/sim.out" 2>"$tmp/sim.err" &
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
}

if [ "$ONLY" != legacy ]; then modern_part; fi
if [ "$ONLY" != modern ]; then
    echo
    echo "== 2025 era (issue 4)"
    legacy_part
fi
