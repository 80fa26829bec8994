#!/usr/bin/env bash
# Installs, builds, starts tracectld on a temporary socket, and shows a real
# `tracectl syscalls` of a sample Python program, then stops the daemon.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/build.sh

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

set -x
build/bin/tracectl info
build/bin/tracectl syscalls --top 15 -- /usr/bin/python3 examples/sample.py
