#!/usr/bin/env bash
# The Rust crates as crates.io would take them (the Python wheel, the jar and the npm tarball are
# tested as installed by bindings/python/test.sh, bindings/kotlin/test.sh and
# bindings/wasm/test.sh):
#   1. the publishable set is exactly core, client, config, native, redis, sim and cli (every
#      other workspace member says publish = false), each with description, license,
#      repository, homepage, documentation, readme (the file exists), keywords (at most 5) and
#      categories;
#   2. their docs build without a warning (RUSTDOCFLAGS="-D warnings" cargo doc --no-deps);
#   3. cargo publish --dry-run --workspace: each is packaged, its path dependencies on siblings
#      resolved by version against the packages of this run (cargo's local overlay: no sibling
#      needs to be on crates.io yet), unpacked and built from the .crate alone, in dependency
#      order (core, config, client, sim, native, cli, redis); nothing is uploaded.
# Prints each part's time.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PUBLISHED=(workboard-core workboard-client workboard-config workboard-native workboard-redis workboard-sim workboard-cli)
start=$SECONDS
part=$SECONDS
took() { echo "== packaging: $1 took $((SECONDS - part)) s"; part=$SECONDS; }

cargo metadata --no-deps --format-version 1 | python3 scripts/crate-metadata.py "${PUBLISHED[@]}"
took "metadata"

pkgs=(); for p in "${PUBLISHED[@]}"; do pkgs+=(-p "$p"); done
RUSTDOCFLAGS="-D warnings" cargo doc -q --no-deps "${pkgs[@]}"
took "cargo doc -D warnings"

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# --allow-dirty: the test command runs in working trees with uncommitted changes too.
if ! cargo publish --dry-run --workspace --allow-dirty >"$log" 2>&1; then cat "$log" >&2; exit 1; fi
uploaded="$(sed -n 's/^ *Uploading \([a-z-]*\) .*/\1/p' "$log" | sort -u | tr '\n' ' ')"
expected="$(printf '%s\n' "${PUBLISHED[@]}" | sort | tr '\n' ' ')"
if [ "$uploaded" != "$expected" ]; then
  echo "cargo publish --dry-run would upload: $uploaded; expected: $expected" >&2; exit 1
fi
grep -E '^ *(Packaging|Packaged)' "$log" | sed 's/^ */  /'
took "cargo publish --dry-run --workspace"
echo "== packaging: all parts took $((SECONDS - start)) s"
