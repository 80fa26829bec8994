#!/usr/bin/env bash
# Installs, builds, starts tracectld on a temporary socket, and shows a real
# `tracectl syscalls` of a sample Python program, then stops the daemon.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "Installing what is missing and building (log: build/build.log)..."
mkdir -p build
deploy/build.sh >build/build.log 2>&1 || { tail -n 40 build/build.log; exit 1; }

source deploy/temp-daemon.sh
trap temp_daemon_stop EXIT
temp_daemon_start

run() {
  echo
  echo "\$ ${*/#build\/bin\//}"
  "$@"
}
run build/bin/tracectl info
run build/bin/tracectl syscalls --top 15 -- /usr/bin/python3 examples/sample.py
run build/bin/tracectl flame -o build/demo-flame.svg -- /usr/bin/python3 examples/busy.py
echo "(open build/demo-flame.svg in a browser: hover, click to zoom, Search)"
