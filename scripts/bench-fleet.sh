#!/usr/bin/env bash
# Figures for a fleet sharing one sign-in (printed, not asserted): K processes calling a tool
# while the simulator expires access tokens every second and rotates refresh tokens (reuse
# revokes the grant) — refreshes, reuses, failed calls and p99/max call latency, with the
# shared store's lease and without it, on a file store (4 processes) and on Redis (8), against
# a redis-server started here on 127.0.0.1 (stopped on exit). Release build.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/redis-up.sh
source scripts/redis-up.sh
redis_for_this_script
cargo build -q --release -p workboard-redis --example fleet_bench
"${CARGO_TARGET_DIR:-target}/release/examples/fleet_bench"
