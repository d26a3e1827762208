#!/usr/bin/env bash
# The credential-store test group: the shared-store contract and its backends, each against
# the real thing —
#   client layer   the contract, ProcessLocal, lead_or_follow (simulated clock)
#   file store     OS file locks between real processes (a killed holder, N-process CAS)
#   Redis store    a redis-server started here on 127.0.0.1 and a free port, in a temporary
#                  directory, stopped on exit; the tests find it through
#                  WORKBOARD_TEST_REDIS_URL, which this script always sets
#   OS keychain    a real Secret Service (GNOME Keyring in a private D-Bus session), the
#                  CLI's fallback to the file store, and `workboard status`
#   the fleet      K native clients in K processes on one store (4 on a file store, 8 on
#                  Redis) while the simulator expires tokens and rotates refresh tokens:
#                  one refresh per expiry, 0 failed calls; the lease holder killed
#                  mid-refresh and the others recovering (crates/workboard-redis/tests/fleet.rs)
# Installs the Debian packages it needs first (scripts/setup-stores.sh). Figures:
# scripts/bench-stores.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/redis-up.sh
source scripts/redis-up.sh
redis_for_this_script
echo "test-stores: redis-server on $WORKBOARD_TEST_REDIS_URL"

# One invocation (one feature set, the workspace's: no rebuild after `cargo test --workspace`).
cargo test --no-fail-fast -p workboard-client -p workboard-native -p workboard-redis -p workboard-cli \
  --lib --test store_processes --test redis_store --test keychain --test fleet
