#!/usr/bin/env bash
# Builds the wasm module and the JS glue into npm/pkg/ (git-ignored build output).
#   WASM_ROUTE       rustup | build-std (default: route.sh's choice, the route a fresh machine
#                    takes: rustup whenever rustup has the wasm32 target)
#   WASM_TARGET_DIR  cargo target dir for the wasm build (default: $CARGO_TARGET_DIR/wasm-build-<route>,
#                    or target/wasm-build-<route> in the repository: the two routes' compilers
#                    never share a target dir)
#   WASM_PROFILE     cargo profile (default: wasm = opt-level z, LTO, panic abort)
#   WASM_PACKAGE     the crate to build (default workboard-wasm; floor.sh builds another)
#   WASM_FEATURES    cargo features of that crate (default none)
#   WASM_ENTRY       full (default: the package's main entry, with the sign-in flows) or token
#                    (its `token` entry: workboard-wasm without default features, no sign-in)
#   WASM_OUT         output directory (default npm/pkg, or npm/pkg-token for WASM_ENTRY=token)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
ROUTE="$("$HERE/route.sh")"
TARGET_DIR="${WASM_TARGET_DIR:-${CARGO_TARGET_DIR:-$ROOT/target}/wasm-build-$ROUTE}"
PROFILE="${WASM_PROFILE:-wasm}"
PACKAGE="${WASM_PACKAGE:-workboard-wasm}"
NAME="${PACKAGE//-/_}"
ENTRY="${WASM_ENTRY:-full}"
case "$ENTRY" in
  full) OUT="${WASM_OUT:-$HERE/npm/pkg}" ;;
  token) OUT="${WASM_OUT:-$HERE/npm/pkg-token}" ;;
  *) echo "build: WASM_ENTRY must be full or token, not '$ENTRY'" >&2; exit 2 ;;
esac
CARGO_ARGS=(-p "$PACKAGE" --target wasm32-unknown-unknown --profile "$PROFILE" --target-dir "$TARGET_DIR")
[ -z "${WASM_FEATURES:-}" ] || CARGO_ARGS+=(--features "$WASM_FEATURES")
[ "$ENTRY" = full ] || CARGO_ARGS+=(--no-default-features)
cd "$ROOT"
# Keep the target_features section for wasm-bindgen; wasm-opt strips what is left.
export CARGO_PROFILE_WASM_STRIP=false
# The source paths that panic locations carry, without this machine's directories: the
# registry's sources as `<crate>-<version>/...` (a package should not name the builder's home
# directory; ~1 KB gzipped less), the workspace's as `crates/...` (cargo already does that).
REGISTRY_SRC="${CARGO_HOME:-$HOME/.cargo}/registry/src"
for dir in "$REGISTRY_SRC"/*/; do
  [ -d "$dir" ] && RUSTFLAGS="${RUSTFLAGS:-} --remap-path-prefix=${dir}="
done
export RUSTFLAGS="${RUSTFLAGS:-}"

# Route (route.sh): rustup's precompiled std whenever rustup has the wasm32 target, as on a
# fresh machine; the Debian rustc-web build-std route (smaller output: std rebuilt with the
# size flags below) only where rustup cannot provide it, or with WASM_ROUTE=build-std.
echo "build: route $ROUTE, entry $ENTRY, target dir $TARGET_DIR, output $OUT"
if [ "$ROUTE" = rustup ]; then
  # Ordinary route: rustup's precompiled std for the target.
  cargo build "${CARGO_ARGS[@]}"
else
  if ! { [ -x /usr/bin/rustc ] && [ -d /usr/lib/rustlib/src/rust/library ] && command -v wasm-ld-16 >/dev/null; }; then
    echo "build: the build-std route needs rustc-web, cargo-web, rust-web-src and lld-16 (WASM_ROUTE=build-std $HERE/setup.sh installs them)" >&2
    exit 1
  fi
  # Debian rustc-web with std rebuilt for wasm32 (panic=abort, so no unwinding code at all).
  # panic=immediate-abort drops the panic machinery and messages (~13 KB gzipped); it needs
  # the std rebuilt, so only this route can use it. -Zfmt-debug=none makes `{:?}` print
  # nothing (Debug output is no part of the API; Display messages are kept) and
  # -Zlocation-detail=none drops file/line strings; std's optimize_for_size picks its smaller
  # algorithms. Together ~3.4 KB gzipped (see README "Size").
  RUSTFLAGS="${RUSTFLAGS:-} -Zunstable-options -Cpanic=immediate-abort -Zfmt-debug=none -Zlocation-detail=none" \
  RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-16 \
    /usr/bin/cargo build "${CARGO_ARGS[@]}" \
      -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size
fi

WASM="$TARGET_DIR/wasm32-unknown-unknown/$PROFILE/$NAME.wasm"
rm -rf "$OUT"
mkdir -p "$OUT"
if [ "${WASM_OPT:-1}" = 1 ] && command -v wasm-opt >/dev/null; then
  # Before wasm-bindgen: Debian's binaryen (108) breaks the externref table that wasm-bindgen
  # adds, so optimize the compiler's output and let wasm-bindgen work on the result.
  # --converge repeats -Oz until it stops shrinking (~0.4 KB gzipped).
  wasm-opt -Oz --converge --strip-debug --strip-producers \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    -o "$OUT/$NAME.wasm" "$WASM"
  WASM="$OUT/$NAME.wasm"
fi
wasm-bindgen --target web --remove-name-section --remove-producers-section --out-dir "$OUT" "$WASM"
# The JS glue minified (esbuild, a pinned devDependency that setup.sh installs): its JSDoc
# comments and long local names are ~40% of its gzipped size; the .d.ts keeps every doc.
# Class names are kept (`--keep-names`: what a console shows), and the syntax is ES2020.
# WASM_MINIFY=0 keeps it as wasm-bindgen wrote it.
if [ "${WASM_MINIFY:-1}" = 1 ]; then
  ESBUILD="$HERE/npm/node_modules/.bin/esbuild"
  [ -x "$ESBUILD" ] || { echo "build: $ESBUILD is missing (run $HERE/setup.sh)" >&2; exit 1; }
  "$ESBUILD" "$OUT/$NAME.js" --minify --keep-names --target=es2020 --format=esm --log-level=warning \
    --outfile="$OUT/$NAME.min.js"
  mv "$OUT/$NAME.min.js" "$OUT/$NAME.js"
fi
rm -f "$OUT/$NAME.wasm" "$OUT/.gitignore" "$OUT/package.json"
echo "$ROUTE $ENTRY" > "$OUT/build-info" # read by size.sh
echo "built $OUT"
