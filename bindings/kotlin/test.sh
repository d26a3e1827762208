#!/usr/bin/env bash
# Builds the native library, generates the Kotlin bindings (UniFFI library mode, into
# target/: build output, not committed), then compiles, tests and packages them with Maven.
# Tests: vector replay through a Kotlin Transport, and full flows against workboard-sim.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

(cd "$root" && cargo build -q -p workboard-ffi -p uniffi-bindgen -p workboard-sim)
lib="$CARGO_TARGET_DIR/debug/libworkboard_ffi.so"
gen="$here/target/generated-sources/uniffi"
rm -rf "$gen"
cd "$root"
"$CARGO_TARGET_DIR/debug/uniffi-bindgen" generate --library "$lib" --language kotlin \
  --no-format --out-dir "$gen" >/dev/null

cd "$here"
mvn -B -ntp package \
  -Dnative.dir="$CARGO_TARGET_DIR/debug" \
  -Dsim.bin="$CARGO_TARGET_DIR/debug/workboard-sim" \
  -Drepo.root="$root"
ls target/workboard-connect-*.jar
