#!/usr/bin/env bash
# Builds the wheel with maturin (UniFFI bindings mode): libworkboard_ffi, the Python module
# UniFFI generates from it (the workspace's pinned uniffi-bindgen) and the hand-written package
# in python/ (__init__.py, __init__.pyi, py.typed), platform-tagged
# (workboard_connect-VERSION-py3-none-<platform>.whl: the module is ABI-independent, the
# library is not). Prints the wheel's path.
#   bindings/python/build.sh          release build (what to ship)
#   bindings/python/build.sh --dev    debug build (test.sh: reuses the workspace's debug build)
# Output: $CARGO_TARGET_DIR/wheels/ (default target/wheels). maturin comes from setup.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
CACHE="${WORKBOARD_CACHE:-$HOME/.cache/workboard-connect}"
"$here/setup.sh"
out="$CARGO_TARGET_DIR/wheels"
profile=(--release)
if [ "${1:-}" = "--dev" ]; then profile=(--profile dev); fi
rm -f "$out"/workboard_connect-*.whl
cd "$here"
# -C strip=debuginfo applies to the linked library only (maturin's own --strip removes the
# symbols UniFFI reads its metadata from): a debug build's 140 MB become 19 MB.
"$CACHE/python-tools/bin/maturin" build --quiet "${profile[@]}" --out "$out" -- -C strip=debuginfo >&2
ls "$out"/workboard_connect-*.whl
