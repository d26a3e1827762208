#!/usr/bin/env bash
# Prints the raw and gzip -9 sizes of the npm package's two builds (.wasm + JS glue), as
# build.sh left them: the main entry (WASM_OUT, default npm/pkg) and `workboard-connect/token`
# (WASM_TOKEN_OUT, default: pkg-token next to it). Each build's route and entry are read from
# the `build-info` file build.sh writes next to it.
# Fails when a build is over its ceiling: the figure measured for that route and entry, plus
# ~1%, so the test command (bindings/wasm/test.sh) catches a regression. Lower a ceiling when
# the package shrinks; README "Size" says what the figures are and how they were reached.
# The issue's target (150,000 B on both routes) is printed for comparison.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PKG="${WASM_OUT:-$HERE/npm/pkg}"
TOKEN_PKG="${WASM_TOKEN_OUT:-$(dirname "$PKG")/pkg-token}"
TARGET=150000

# Ceilings in gzip bytes (.wasm + glue), by route and entry: the figures measured on
# 2026-12-06 (README "Size": rustup 264,250 / 219,242, build-std 247,408 / 201,698) plus ~1%.
ceiling() {
  case "$1/$2" in
    rustup/full) echo 266800 ;;
    rustup/token) echo 221000 ;;
    build-std/full) echo 249800 ;;
    build-std/token) echo 203400 ;;
    *) echo "size: no ceiling for route '$1', entry '$2'" >&2; return 1 ;;
  esac
}

status=0
printf '%-46s %10s %10s\n' file raw gzip-9
for pkg in "$PKG" "$TOKEN_PKG"; do
  if [ ! -f "$pkg/workboard_wasm_bg.wasm" ] || [ ! -f "$pkg/build-info" ]; then
    echo "size: $pkg not built (run build.sh, and WASM_ENTRY=token build.sh)" >&2
    exit 1
  fi
  read -r route entry < "$pkg/build-info"
  total_raw=0; total_gz=0
  for f in workboard_wasm_bg.wasm workboard_wasm.js; do
    raw=$(wc -c < "$pkg/$f"); gz=$(gzip -9c "$pkg/$f" | wc -c)
    total_raw=$((total_raw + raw)); total_gz=$((total_gz + gz))
    printf '%-46s %10d %10d\n' "$entry ($route): $f" "$raw" "$gz"
  done
  limit=$(ceiling "$route" "$entry")
  if [ "$total_gz" -gt "$TARGET" ]; then vs="over it by $((total_gz - TARGET))"; else vs="under it by $((TARGET - total_gz))"; fi
  printf '%-46s %10d %10d   (ceiling %d; target %d: %s)\n' "$entry ($route): total" \
    "$total_raw" "$total_gz" "$limit" "$TARGET" "$vs"
  if [ "$total_gz" -gt "$limit" ]; then
    echo "size: the $entry build ($route route) is $total_gz B gzipped, over its ceiling of $limit B" >&2
    status=1
  fi
done
exit "$status"
