#!/usr/bin/env bash
# The full test suite: installs what it needs (idempotently) and runs every test —
# Rust (core, client layer and its behaviour suite, native, simulator, CLI end to end), wasm
# in Node and headless Chromium, Kotlin, Python, the Swift sources check, the independent
# TypeScript-SDK peer, the official MCP conformance suite (tests/conformance), and the adapters'
# client-code ceiling, and the credential stores (file locks, a Redis it starts, a real Secret
# Service). Packages as users install them: the Python wheel into a fresh virtualenv, the jar from
# a local Maven repository into a consumer app, the npm tarball into fresh Node/TypeScript/Vite
# projects (each binding's test.sh), and the crates through cargo publish --dry-run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/workboard-connect/target}"
export CARGO_TERM_COLOR=never
mkdir -p "$CARGO_TARGET_DIR"

section() { printf '\n==== %s ====\n' "$*"; }
failed=()
timings=()
run() {
    local name="$1"; shift
    section "$name"
    local start=$SECONDS
    if "$@"; then echo "---- $name: ok ($((SECONDS - start)) s)"; else echo "---- $name: FAILED ($((SECONDS - start)) s)"; failed+=("$name"); fi
    timings+=("$(printf '%6d s  %s' $((SECONDS - start)) "$name")")
}

run "rust toolchain" bash scripts/setup-rust.sh
run "independent MCP peer (TypeScript SDK) deps" bash -c 'test ! -f tests/ts-sdk/test.sh || (cd tests/ts-sdk && (npm ci --no-audit --no-fund || npm install --no-audit --no-fund))'
# The Redis and keychain tests in the workspace need redis-server, dbus-run-session and
# gnome-keyring (Debian packages); the store group then runs them on a Redis it starts.
run "credential stores: Debian packages (scripts/setup-stores.sh)" bash scripts/setup-stores.sh
run "rust: cargo test --workspace" cargo test --workspace
run "credential stores: file locks, Redis, keychain (scripts/test-stores.sh)" bash scripts/test-stores.sh
run "adapters' client code size (scripts/adapter-lines.sh)" bash scripts/adapter-lines.sh
run "crates for crates.io: metadata, cargo doc -D warnings, cargo publish --dry-run (scripts/test-packaging.sh)" bash scripts/test-packaging.sh
for t in tests/ts-sdk/test.sh tests/conformance/test.sh bindings/wasm/test.sh bindings/kotlin/test.sh bindings/python/test.sh bindings/swift/check.sh; do
    if [ -f "$t" ]; then run "$t" bash "$t"; fi
done

section "summary"
printf '%s\n' "${timings[@]}"
printf '%6d s  total\n' "$SECONDS"
if [ ${#failed[@]} -gt 0 ]; then
    printf 'failed: %s\n' "${failed[@]}"
    exit 1
fi
echo "all test groups passed"
