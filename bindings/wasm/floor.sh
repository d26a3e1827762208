#!/usr/bin/env bash
# Prints the size floor under the package's budget: the crate in floor/ (no flow logic; only
# the named dependencies used the way the SDK must use them), built with build.sh's recipe
# with each dependency switched on in turn, and the package itself for comparison.
# A measurement script, not a test: it is not part of the test command.
#   FLOOR_OUT   where the builds go (default: a temporary directory, removed after)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${FLOOR_OUT:-$(mktemp -d)}"
[ -n "${FLOOR_OUT:-}" ] || trap 'rm -rf "$OUT"' EXIT

gz() { gzip -9c "$1" | wc -c; }
row() { # label dir name
  local wasm="$2/${3}_bg.wasm" js="$2/$3.js"
  printf '%-44s %9d %9d %9d\n' "$1" "$(wc -c < "$wasm")" "$(gz "$wasm")" \
    "$(( $(gz "$wasm") + $(gz "$js") ))"
}

for features in "" json url json,url; do
  WASM_PACKAGE=workboard-wasm-floor WASM_FEATURES="$features" WASM_OUT="$OUT/floor-${features:-none}" \
    "$HERE/build.sh" >"$OUT/build-${features:-none}.log" 2>&1 \
    || { cat "$OUT/build-${features:-none}.log" >&2; exit 1; }
done
printf '%-44s %9s %9s %9s\n' module "wasm raw" "wasm gz" "+ JS gz"
row "floor: wasm-bindgen, futures, a JS callback" "$OUT/floor-none" workboard_wasm_floor
row "floor + serde_json (Value, 6 typed docs)" "$OUT/floor-json" workboard_wasm_floor
row "floor + url (parse, join, query)" "$OUT/floor-url" workboard_wasm_floor
row "floor + serde_json + url" "$OUT/floor-json,url" workboard_wasm_floor
if [ -f "$HERE/npm/pkg/workboard_wasm_bg.wasm" ]; then
  row "the package (npm/pkg, from build.sh)" "$HERE/npm/pkg" workboard_wasm
fi
if [ -f "$HERE/npm/pkg-token/workboard_wasm_bg.wasm" ]; then
  row "its token entry (npm/pkg-token)" "$HERE/npm/pkg-token" workboard_wasm
fi
echo "route: $("$HERE/route.sh"); issue 16's target: 150000 bytes gzipped (.wasm + JS glue)"
