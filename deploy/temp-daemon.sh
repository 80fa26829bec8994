# Sourced by the demo and the benchmarks, from the top of the checkout.
# temp_daemon_start runs tracectld from $TRACECTL_BIN (default build/bin) on
# a socket in a new temporary directory (mode 755) and exports
# TRACECTL_SOCKET for tracectl;
# temp_daemon_stop ends it and removes the directory. Call temp_daemon_stop
# from an EXIT trap.

temp_daemon_start() {
  TEMP_DAEMON_DIR=$(mktemp -d /tmp/tracectl.XXXXXX)
  chmod 755 "$TEMP_DAEMON_DIR"
  export TRACECTL_SOCKET="$TEMP_DAEMON_DIR/tracectld.sock"
  local bin=${TRACECTL_BIN:-build/bin}
  "$bin/tracectld" --socket "$TRACECTL_SOCKET" \
    2>"$TEMP_DAEMON_DIR/tracectld.log" &
  TEMP_DAEMON_PID=$!
  for _ in $(seq 100); do
    "$bin/tracectl" info >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "tracectld did not start:" >&2
  cat "$TEMP_DAEMON_DIR/tracectld.log" >&2
  return 1
}

temp_daemon_stop() {
  [[ -n "${TEMP_DAEMON_PID:-}" ]] || return 0
  kill -TERM "$TEMP_DAEMON_PID" 2>/dev/null || true
  wait "$TEMP_DAEMON_PID" 2>/dev/null || true
  rm -rf "$TEMP_DAEMON_DIR"
  TEMP_DAEMON_PID=
}
