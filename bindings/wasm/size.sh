#!/usr/bin/env bash
# Prints raw and gzip sizes of the built package (npm/pkg or WASM_OUT, run build.sh first).
# Budget: SIZE_BUDGET_GZIP_BYTES (default 61440 = 60 KiB) for .wasm + JS glue gzipped.
# Over budget: a warning, or a failure with SIZE_BUDGET_ENFORCE=1.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PKG="${WASM_OUT:-$HERE/npm/pkg}"
BUDGET="${SIZE_BUDGET_GZIP_BYTES:-61440}"
[ -f "$PKG/workboard_wasm_bg.wasm" ] || { echo "size: $PKG not built (run build.sh)" >&2; exit 1; }
total_raw=0; total_gz=0
printf '%-28s %10s %10s\n' file raw gzip-9
for f in workboard_wasm_bg.wasm workboard_wasm.js; do
  raw=$(wc -c < "$PKG/$f"); gz=$(gzip -9c "$PKG/$f" | wc -c)
  total_raw=$((total_raw + raw)); total_gz=$((total_gz + gz))
  printf '%-28s %10d %10d\n' "$f" "$raw" "$gz"
done
printf '%-28s %10d %10d   (budget %d gzip)\n' total "$total_raw" "$total_gz" "$BUDGET"
if [ "$total_gz" -gt "$BUDGET" ]; then
  echo "size: OVER BUDGET by $((total_gz - BUDGET)) bytes gzipped" >&2
  [ "${SIZE_BUDGET_ENFORCE:-0}" = 1 ] && exit 1
fi
exit 0
