#!/usr/bin/env bash
# Builds libworkboard_ffi and generates the Python module into workboard_connect/ (build
# output, not committed). Usage: bindings/python/build.sh [--release]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
profile=debug
if [ "${1:-}" = "--release" ]; then profile=release; fi
cd "$root"
cargo build -q -p workboard-ffi -p uniffi-bindgen ${1:+--release}
"$CARGO_TARGET_DIR/debug/uniffi-bindgen" generate --library "$CARGO_TARGET_DIR/$profile/libworkboard_ffi.so" \
  --language python --no-format --out-dir "$here/workboard_connect" >/dev/null
cp "$CARGO_TARGET_DIR/$profile/libworkboard_ffi.so" "$here/workboard_connect/"
