#!/usr/bin/env bash
# The cost of counting system calls: a Python loop of 200k os.stat (200k
# newfstatat calls) untraced, under `tracectl syscalls --comm python`, under
# `strace -f -c`, `perf trace -s` and bpftrace, in one run, as ratios. The
# floor row is two empty BPF programs on the same hooks tracectl uses. The
# -w row times calls on the wall clock, so it runs no sched_switch program:
# the difference to the default row is what CPU time costs. The
# --count-only row runs one program, at sys_exit, against the floor of one
# empty program there.
#
#   sudo bench/syscalls_bench.sh [ROUNDS]     (default 5 rounds, median kept)
#
# Prints a Markdown table for bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
deploy/build.sh >/dev/null
command -v bpftrace >/dev/null || echo "bpftrace is not installed: its row is left out (apt-get install bpftrace)" >&2
PY=/usr/bin/python3
LOOP='import os
for _ in range(200000): os.stat("/")'

source bench/lib.sh
source deploy/temp-daemon.sh
trap temp_daemon_stop EXIT
temp_daemon_start
mount_tracefs

config untraced 'timed "$PY" -c "$LOOP"'
config "floor: empty sys_enter+sys_exit programs" \
  'under_background_tracer build/bin/hook_floor'
config "floor: one empty sys_exit program" \
  'under_background_tracer build/bin/hook_floor --exit-only'
config "tracectl syscalls --count-only --comm python" \
  'under_background_tracer build/bin/tracectl syscalls --count-only --comm python'
config "tracectl syscalls --comm python" \
  'under_background_tracer build/bin/tracectl syscalls --comm python'
config "tracectl syscalls -w --comm python (wall time)" \
  'under_background_tracer build/bin/tracectl syscalls -w --comm python'
config "tracectl syscalls -- python3 (whole run)" \
  'timed build/bin/tracectl syscalls -- "$PY" -c "$LOOP"'
config "strace -f -c" 'timed strace -f -c -o /dev/null "$PY" -c "$LOOP"'
config "perf trace -s" 'timed perf trace -s -o /dev/null "$PY" -c "$LOOP"'
if command -v bpftrace >/dev/null; then
  config "bpftrace count by comm,id" \
    "under_background_tracer bpftrace -e 'tracepoint:raw_syscalls:sys_enter /comm == \"python3\"/ { @[comm, args->id] = count(); }'"
fi
run_rounds "$RUNS"
print_table "$PY, 200k os.stat in a loop"
