#!/usr/bin/env bash
# The Android route: builds libworkboard_ffi.so for each Android ABI with cargo-ndk and packs
# an AAR around the Kotlin classes of the JVM build (bindings/kotlin/test.sh builds them):
#
#   workboard-connect-android-0.1.0.aar
#     AndroidManifest.xml          (android/AndroidManifest.xml: minSdk 24, INTERNET)
#     classes.jar                  the JVM jar without its desktop libraries (linux-x86-64/, ...)
#     jni/arm64-v8a/libworkboard_ffi.so
#     jni/armeabi-v7a/libworkboard_ffi.so
#     jni/x86_64/libworkboard_ffi.so
#     jni/x86/libworkboard_ffi.so
#     R.txt                        (empty: no resources)
#
# then installs it with android/pom-aar.xml (JNA's own AAR, coroutines) into the same local
# Maven repository as the jar. Needs an Android NDK: ANDROID_NDK_HOME (or ANDROID_NDK_ROOT).
# None is installed on this project's machines and none can be fetched there (the NDK is not in
# the registries they reach), so this script has not been run to the end here; without an NDK
# it stops at once, saying so.
#   ABIS="arm64-v8a x86_64" bindings/kotlin/android/build-aar.sh    (default: all four)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
kotlin="$(cd "$here/.." && pwd)"
root="$(cd "$kotlin/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
CACHE="${WORKBOARD_CACHE:-$HOME/.cache/workboard-connect}"
ABIS="${ABIS:-arm64-v8a armeabi-v7a x86_64 x86}"
NDK="${ANDROID_NDK_HOME:-${ANDROID_NDK_ROOT:-}}"
if [ -z "$NDK" ] || [ ! -d "$NDK/toolchains/llvm" ]; then
  echo "build-aar.sh: no Android NDK (set ANDROID_NDK_HOME to one, r26 or later); nothing built" >&2
  exit 2
fi
jar="$kotlin/target/workboard-connect-0.1.0.jar"
[ -f "$jar" ] || { echo "build-aar.sh: run bindings/kotlin/test.sh first (it builds $jar)" >&2; exit 1; }

declare -A RUST_TARGET=([arm64-v8a]=aarch64-linux-android [armeabi-v7a]=armv7-linux-androideabi
  [x86_64]=x86_64-linux-android [x86]=i686-linux-android)
targets=(); ndk_args=()
for abi in $ABIS; do
  [ -n "${RUST_TARGET[$abi]:-}" ] || { echo "build-aar.sh: unknown ABI $abi" >&2; exit 1; }
  targets+=("${RUST_TARGET[$abi]}"); ndk_args+=(-t "$abi")
done
rustup target add "${targets[@]}"
command -v cargo-ndk >/dev/null || cargo install cargo-ndk --version '^4'

out="$CARGO_TARGET_DIR/android-aar"
rm -rf "$out"; mkdir -p "$out/aar/jni"
# API level 24 (Android 7.0), as the manifest's minSdk.
(cd "$root" && cargo ndk --platform 24 "${ndk_args[@]}" -o "$out/aar/jni" build --release -p workboard-ffi)

cp "$here/AndroidManifest.xml" "$out/aar/"
: > "$out/aar/R.txt"
# classes.jar: the JVM jar's classes without the desktop libraries (JNA's resource-prefix dirs).
mkdir -p "$out/classes"
(cd "$out/classes" && unzip -q "$jar" -x 'linux-*' 'darwin-*' 'win32-*' 'freebsd-*')
(cd "$out/classes" && zip -qr "$out/aar/classes.jar" .)
aar="$out/workboard-connect-android-0.1.0.aar"
(cd "$out/aar" && zip -qr "$aar" AndroidManifest.xml classes.jar R.txt jni)
unzip -l "$aar"
mvn -B -ntp -Dmaven.repo.local="$CACHE/m2" install:install-file -Dfile="$aar" -DpomFile="$here/pom-aar.xml"
echo "built and installed $aar"
