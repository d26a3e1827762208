#!/usr/bin/env bash
# Builds the native library, generates the Kotlin bindings (UniFFI library mode, into
# target/: build output, not committed), stages the library at JNA's resource path for this
# platform (target/native-resources/<prefix>/, packed into the jar), then compiles, tests and
# installs the jar with Maven, into a local repository of its own
# ($WORKBOARD_CACHE/m2, default ~/.cache/workboard-connect/m2; never ~/.m2).
# Tests: vector replay through a Kotlin Transport, and full flows against workboard-sim
# (no jna.library.path: the library loads from the classpath); then consumer/, an app that
# depends on com.workboard:workboard-connect:0.1.0 from that repository, runs its flow against
# workboard-sim with the library taken out of the jar.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
CACHE="${WORKBOARD_CACHE:-$HOME/.cache/workboard-connect}"
MAVEN_REPO="$CACHE/m2"
start=$SECONDS

(cd "$root" && cargo build -q -p workboard-ffi -p uniffi-bindgen -p workboard-sim)
lib="$CARGO_TARGET_DIR/debug/libworkboard_ffi.so"
gen="$here/target/generated-sources/uniffi"
rm -rf "$gen"
cd "$root"
"$CARGO_TARGET_DIR/debug/uniffi-bindgen" generate --library "$lib" --language kotlin \
  --no-format --out-dir "$gen" >/dev/null

# JNA's resource prefix for this platform (com.sun.jna.Platform.RESOURCE_PREFIX).
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) prefix=linux-x86-64 ;;
  Linux-aarch64) prefix=linux-aarch64 ;;
  Darwin-arm64) prefix=darwin-aarch64 ;;
  Darwin-x86_64) prefix=darwin-x86-64 ;;
  *) echo "test.sh: no JNA resource prefix known for $(uname -sm)" >&2; exit 1 ;;
esac
res="$here/target/native-resources"
rm -rf "$res"
mkdir -p "$res/$prefix"
cp "$lib" "$res/$prefix/"
# Debug info is most of a debug build's size (140 MB -> 20 MB): the jar carries the library
# without it.
strip --strip-debug "$res/$prefix/libworkboard_ffi.so"

cd "$here"
mvn -B -ntp -Dmaven.repo.local="$MAVEN_REPO" install \
  -Dsim.bin="$CARGO_TARGET_DIR/debug/workboard-sim" \
  -Drepo.root="$root"
jar="target/workboard-connect-0.1.0.jar"
listing="$(jar tf "$jar")"
grep -qx "$prefix/libworkboard_ffi.so" <<<"$listing" || { echo "test.sh: $jar lacks $prefix/libworkboard_ffi.so" >&2; exit 1; }
echo "== kotlin: $jar $(stat -c %s "$jar") bytes (with $prefix/libworkboard_ffi.so), installed into $MAVEN_REPO ($((SECONDS - start)) s)"

part=$SECONDS
mvn -B -ntp -Dmaven.repo.local="$MAVEN_REPO" -f consumer/pom.xml test \
  -Dsim.bin="$CARGO_TARGET_DIR/debug/workboard-sim"
echo "== kotlin: the consumer app against the installed jar took $((SECONDS - part)) s"

# Android: the AAR (cargo-ndk per ABI), only where an Android NDK is installed (none is on this
# project's machines: see android/build-aar.sh).
if [ -n "${ANDROID_NDK_HOME:-${ANDROID_NDK_ROOT:-}}" ]; then
  bash "$here/android/build-aar.sh"
else
  echo "== kotlin: no Android NDK here (ANDROID_NDK_HOME unset): the AAR (android/build-aar.sh) was not built"
fi
