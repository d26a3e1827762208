#!/usr/bin/env bash
# Checks the native Rust toolchain (rustup stable is preinstalled on these machines).
set -euo pipefail
if ! command -v cargo >/dev/null 2>&1; then
    if [ -x "$HOME/.cargo/bin/cargo" ]; then export PATH="$HOME/.cargo/bin:$PATH"; else
        echo "cargo not found: install Rust (https://rustup.rs) or 'apt-get install cargo'" >&2; exit 1
    fi
fi
cargo --version
