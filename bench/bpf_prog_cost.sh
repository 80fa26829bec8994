#!/usr/bin/env bash
# Nanoseconds per run of each BPF program, from the kernel's own accounting
# (kernel.bpf_stats_enabled), while /usr/bin/python3 makes 200k os.stat
# calls: tracectl syscalls --comm python next to two empty programs on the
# same hooks. The kernel's accounting itself adds two clock reads per run,
# which the empty programs show.
#
#   sudo bench/bpf_prog_cost.sh
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/build.sh >/dev/null

source deploy/temp-daemon.sh
previous=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
  sysctl -qw kernel.bpf_stats_enabled="$previous"
  temp_daemon_stop
}
trap cleanup EXIT
temp_daemon_start

# Runs the loop under the tracer "$@" and prints its programs' cost.
cost() {
  local tracer
  sysctl -qw kernel.bpf_stats_enabled=0
  "$@" >/dev/null 2>&1 &
  tracer=$!
  sleep 0.7
  sysctl -qw kernel.bpf_stats_enabled=1
  /usr/bin/python3 -c 'import os
for _ in range(200000): os.stat("/")'
  bpftool -j prog show | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p.get("run_cnt"):
        print("| %s | %d | %.1f |" % (p["name"], p["run_cnt"], p["run_time_ns"] / p["run_cnt"]))'
  kill -INT "$tracer"
  wait "$tracer" 2>/dev/null || true
}

echo "| program | runs | ns per run |"
echo "|---|---|---|"
cost build/bin/hook_floor
cost build/bin/tracectl syscalls --comm python
cost build/bin/tracectl syscalls --comm python --per-process
