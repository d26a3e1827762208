#!/usr/bin/env bash
# Installs what building and testing the Python wheel needs, idempotently, under
# ${WORKBOARD_CACHE:-$HOME/.cache/workboard-connect}:
#   python-tools/        a virtualenv holding maturin (builds the wheel)
#   python-wheelhouse/   pytest and mypy wheels (and their dependencies), so each test run's
#                        fresh virtualenv installs them offline in seconds
# Prints nothing but errors and what it installs.
set -euo pipefail
MATURIN_VERSION=1.16.0
PYTEST_VERSION=9.2.0
MYPY_VERSION=2.4.1
CACHE="${WORKBOARD_CACHE:-$HOME/.cache/workboard-connect}"
TOOLS="$CACHE/python-tools"
WHEELHOUSE="$CACHE/python-wheelhouse"
mkdir -p "$CACHE"

# A virtualenv; Debian's own python3 makes them only with python3-venv (ensurepip) installed.
make_venv() {
  if python3 -m venv "$1" 2>/dev/null; then return; fi
  rm -rf "$1"
  echo "setup: installing python3-venv" >&2
  SUDO=""; [ "$(id -u)" != 0 ] && command -v sudo >/dev/null && SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
  python3 -m venv "$1"
}

if [ "$("$TOOLS/bin/maturin" --version 2>/dev/null)" != "maturin $MATURIN_VERSION" ]; then
  echo "setup: installing maturin $MATURIN_VERSION into $TOOLS" >&2
  rm -rf "$TOOLS"
  make_venv "$TOOLS"
  "$TOOLS/bin/pip" install -q --disable-pip-version-check "maturin==$MATURIN_VERSION"
fi

# mypy's wheels are per CPython version: the stamp names the interpreter too.
stamp="$WHEELHOUSE/.pytest-$PYTEST_VERSION-mypy-$MYPY_VERSION-$(python3 -c 'import sys; print("py%d.%d" % sys.version_info[:2])')"
if [ ! -f "$stamp" ]; then
  echo "setup: downloading pytest $PYTEST_VERSION and mypy $MYPY_VERSION into $WHEELHOUSE" >&2
  rm -rf "$WHEELHOUSE"
  "$TOOLS/bin/pip" download -q --disable-pip-version-check --only-binary=:all: -d "$WHEELHOUSE" \
    "pytest==$PYTEST_VERSION" "mypy==$MYPY_VERSION"
  touch "$stamp"
fi
