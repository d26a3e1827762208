#!/usr/bin/env bash
# Installs, idempotently, what the credential-store tests run against (Debian packages):
#   redis-server     a real Redis (crates/workboard-redis tests, scripts/test-stores.sh)
#   dbus-daemon      dbus-run-session: a private D-Bus session bus
#   gnome-keyring    a real Secret Service (the OS keychain store on Linux)
#   libsecret-tools  secret-tool: an independent client to read the keychain items back
# Nothing is started here (scripts/test-stores.sh and scripts/with-secret-service.sh start
# and stop what they use). Uses sudo when not root; exit 1 when a tool is still missing.
set -euo pipefail
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v dbus-run-session >/dev/null 2>&1 || need+=(dbus-daemon)
command -v gnome-keyring-daemon >/dev/null 2>&1 || need+=(gnome-keyring)
command -v secret-tool >/dev/null 2>&1 || need+=(libsecret-tools)
if [ ${#need[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup-stores: missing ${need[*]} and no apt-get here; install them with your package manager" >&2
    exit 1
  fi
  SUDO=""; [ "$(id -u)" != 0 ] && command -v sudo >/dev/null && SUDO="sudo"
  echo "setup-stores: installing ${need[*]} (Debian packages)" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
for tool in redis-server dbus-run-session gnome-keyring-daemon secret-tool; do
  command -v "$tool" >/dev/null 2>&1 || { echo "setup-stores: $tool still missing" >&2; exit 1; }
done
redis-server --version
