#!/usr/bin/env bash
# Builds and runs every fuzz target for SECONDS_PER_TARGET seconds (default 75), one after
# the other, and prints a summary line per target (executions, execs/s, crashes).
#
#   fuzz/run-all.sh                 # all targets, 75 s each
#   SECONDS_PER_TARGET=600 fuzz/run-all.sh sse jsonrpc
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). Nightly is not required: stable with
# RUSTC_BOOTSTRAP=1 accepts the -Z sanitizer flags cargo-fuzz passes.
set -u
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
TARGET_DIR="${FUZZ_TARGET_DIR:-/work/target-fuzz}"
SECS="${SECONDS_PER_TARGET:-75}"
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=(redirect token_response www_authenticate metadata sse jsonrpc aiconfig doctor responses connection)
fi
cargo fuzz build --target-dir "$TARGET_DIR" || exit 1
mkdir -p logs
printf '%-18s %12s %10s %8s %8s\n' target execs execs/s cov crashes
status=0
for t in "${TARGETS[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  cp -n seeds/"$t"/* "corpus/$t/" 2>/dev/null || true
  cargo fuzz run --target-dir "$TARGET_DIR" "$t" "corpus/$t" -- \
    -max_total_time="$SECS" -print_final_stats=1 -artifact_prefix="artifacts/$t/" \
    -rss_limit_mb=2048 >"logs/$t.log" 2>&1
  rc=$?
  execs=$(grep -E '^stat::number_of_executed_units' "logs/$t.log" | awk '{print $2}')
  rate=$(grep -E '^stat::average_exec_per_sec' "logs/$t.log" | awk '{print $2}')
  cov=$(grep -oE 'cov: [0-9]+' "logs/$t.log" | tail -1 | awk '{print $2}')
  crashes=$(find "artifacts/$t" -type f | wc -l)
  printf '%-18s %12s %10s %8s %8s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$crashes"
  if [ $rc -ne 0 ] || [ "$crashes" -ne 0 ]; then
    status=1
    find "artifacts/$t" -type f -printf '  crash input: %p\n'
  fi
done
exit $status
