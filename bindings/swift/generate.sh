#!/usr/bin/env bash
# Regenerates the checked-in Swift bindings from the current Rust API (UniFFI library mode):
#   Sources/WorkboardConnect/WorkboardConnect.swift
#   Sources/WorkboardConnectFFI/include/{WorkboardConnectFFI.h,module.modulemap}
# Usage: bindings/swift/generate.sh [OUT_DIR]   (default: this package's Sources)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
out="${1:-$here/Sources}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$root"
cargo build -q -p workboard-ffi -p uniffi-bindgen
"$CARGO_TARGET_DIR/debug/uniffi-bindgen" generate --library "$CARGO_TARGET_DIR/debug/libworkboard_ffi.so" \
  --language swift --no-format --out-dir "$tmp" >/dev/null
mkdir -p "$out/WorkboardConnect" "$out/WorkboardConnectFFI/include"
cp "$tmp/WorkboardConnect.swift" "$out/WorkboardConnect/WorkboardConnect.swift"
cp "$tmp/WorkboardConnectFFI.h" "$out/WorkboardConnectFFI/include/WorkboardConnectFFI.h"
cp "$tmp/WorkboardConnectFFI.modulemap" "$out/WorkboardConnectFFI/include/module.modulemap"
