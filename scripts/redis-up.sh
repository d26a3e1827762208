# Sourced: redis_up starts a redis-server on 127.0.0.1 and a free port with a temporary
# directory (no persistence) and exports WORKBOARD_TEST_REDIS_URL; redis_down stops it and
# removes the directory. Callers: trap redis_down EXIT.
redis_up() {
  REDIS_DIR="$(mktemp -d)"
  local port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
  redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
    --dir "$REDIS_DIR" --daemonize yes --pidfile "$REDIS_DIR/redis.pid" \
    --logfile "$REDIS_DIR/redis.log" >/dev/null
  local i
  for i in $(seq 1 100); do
    if redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
      export WORKBOARD_TEST_REDIS_URL="redis://127.0.0.1:$port"
      return 0
    fi
    sleep 0.05
  done
  echo "redis-server did not start on 127.0.0.1:$port:" >&2
  cat "$REDIS_DIR/redis.log" >&2 || true
  return 1
}

redis_down() {
  if [ -n "${REDIS_DIR:-}" ] && [ -f "$REDIS_DIR/redis.pid" ]; then
    local pid i
    pid="$(cat "$REDIS_DIR/redis.pid")"
    kill "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
  fi
  [ -n "${REDIS_DIR:-}" ] && rm -rf "$REDIS_DIR"
  return 0
}

# For a script that needs a Redis until it exits: installs the store packages
# (scripts/setup-stores.sh), starts one and stops it on exit. Run from the repository root.
redis_for_this_script() {
  bash scripts/setup-stores.sh >/dev/null
  redis_up
  trap redis_down EXIT
}
