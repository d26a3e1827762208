#!/usr/bin/env bash
# Figures for the shared credential stores (printed, not asserted): compare-and-swap ops/s
# and lease acquire + release latency for the file store and the Redis store, against a
# redis-server started here on 127.0.0.1 (stopped on exit). Release build.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/redis-up.sh
source scripts/redis-up.sh
redis_for_this_script
echo "file store: $(df -T "${TMPDIR:-/tmp}" | awk 'NR==2 {print $2}') at ${TMPDIR:-/tmp}; redis-server $(redis-server --version | awk '{print $3}') on loopback"
cargo run -q --release -p workboard-redis --example store_bench
