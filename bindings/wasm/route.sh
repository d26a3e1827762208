#!/usr/bin/env bash
# Prints the wasm build route this machine takes, the one a fresh machine takes:
#   rustup     rustup's precompiled wasm32-unknown-unknown std, whenever rustup has the target
#              (setup.sh adds it first, with a timeout, wherever rustup can);
#   build-std  Debian's rustc-web with the std rebuilt (-Zbuild-std), only where rustup cannot
#              provide the target.
# WASM_ROUTE=rustup|build-std forces one.
set -euo pipefail
if [ -n "${WASM_ROUTE:-}" ]; then
  case "$WASM_ROUTE" in
    rustup|build-std) echo "$WASM_ROUTE" ;;
    *) echo "route: WASM_ROUTE must be rustup or build-std, not '$WASM_ROUTE'" >&2; exit 2 ;;
  esac
elif command -v rustup >/dev/null && rustup target list --installed 2>/dev/null | grep -qx 'wasm32-unknown-unknown'; then
  echo rustup
else
  echo build-std
fi
