#!/usr/bin/env bash
# Installs, builds, starts tracectld on a temporary socket, and shows a real
# `tracectl syscalls` of a sample Python program, then stops the daemon.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "Installing what is missing and building (log: build/build.log)..."
mkdir -p build
deploy/build.sh >build/build.log 2>&1 || { tail -n 40 build/build.log; exit 1; }

dir=$(mktemp -d /tmp/tracectl-demo.XXXXXX)
chmod 755 "$dir"
export TRACECTL_SOCKET="$dir/tracectld.sock"
build/bin/tracectld --socket "$TRACECTL_SOCKET" 2>"$dir/tracectld.log" &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null; wait $daemon 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
  build/bin/tracectl info >/dev/null 2>&1 && break
  sleep 0.1
done

run() {
  echo
  echo "\$ ${*/#build\/bin\//}"
  "$@"
}
run build/bin/tracectl info
run build/bin/tracectl syscalls --top 15 -- /usr/bin/python3 examples/sample.py
