#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with a real Secret Service (GNOME Keyring),
# its keyring unlocked, stored in a temporary directory (the user's own keyrings are never
# touched); the session, the keyring daemon and the directory end with the command.
#
# Usage: scripts/with-secret-service.sh COMMAND [ARGS...]
# Needs dbus-run-session and gnome-keyring-daemon (bash scripts/setup-stores.sh installs
# them); exit 2 when they are missing.
set -euo pipefail
if [ $# -eq 0 ]; then echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; fi
for tool in dbus-run-session gnome-keyring-daemon; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "with-secret-service: $tool is missing; run bash scripts/setup-stores.sh (Debian: apt-get install dbus gnome-keyring)" >&2
    exit 2
  fi
done
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
mkdir -m 700 -p "$TMP/data" "$TMP/runtime"
export XDG_DATA_HOME="$TMP/data" XDG_RUNTIME_DIR="$TMP/runtime"
# The keyring's password only unlocks this throwaway keyring.
# (dbus-daemon's "Failed to set fd limit" warning in containers is harmless.)
dbus-run-session -- bash -c '
  printf %s "throwaway-$$" | gnome-keyring-daemon --unlock --components=secrets >/dev/null || exit 2
  exec "$@"
' with-secret-service "$@"
