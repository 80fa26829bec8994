#!/usr/bin/env bash
# The cost of the strace view: a Python loop of 200k os.stat untraced, under
# `tracectl trace -o /dev/null`, `strace -f -o /dev/null` and
# `perf trace -o /dev/null`, in one run, as ratios. Each traced run prints
# one line per system call of the whole python3 run (startup included).
# Two more rows split tracectl's cost: the loop timed while a session that
# is already attached traces it, and a session around /bin/true (start:
# load and attach the programs; end: detach, drain, final summary).
#
#   sudo bench/trace_bench.sh [ROUNDS]     (default 5 rounds, median kept)
#
# Prints a Markdown table for bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
deploy/build.sh >/dev/null
PY=/usr/bin/python3
LOOP='import os
for _ in range(200000): os.stat("/")'

source bench/lib.sh
source deploy/temp-daemon.sh
trap temp_daemon_stop EXIT
temp_daemon_start
mount_tracefs

# tracectl's drop counters go to stderr: keep the last run's, to report.
DROPS=$(mktemp)
trap 'temp_daemon_stop; rm -f "$DROPS"' EXIT
tracectl_trace() {
  local t0 t1
  t0=$(now)
  build/bin/tracectl trace -o /dev/null -- "$PY" -c "$LOOP" >/dev/null 2>"$DROPS"
  t1=$(now)
  echo "$t1 - $t0" | bc -l
}

config untraced 'timed "$PY" -c "$LOOP"'
config "tracectl trace -o /dev/null" 'tracectl_trace'
config "  loop only: tracectl trace --comm python3 attached first" \
  'under_background_tracer build/bin/tracectl trace --comm python3 -o /dev/null'
config "  fixed cost: tracectl trace -- /bin/true" \
  'timed build/bin/tracectl trace -o /dev/null -- /bin/true'
config "strace -f -o /dev/null" 'timed strace -f -o /dev/null "$PY" -c "$LOOP"'
config "perf trace -o /dev/null" 'timed perf trace -o /dev/null "$PY" -c "$LOOP"'
run_rounds "$RUNS"
print_table "$PY, 200k os.stat in a loop, every call printed"
echo
echo "tracectl's drop counters in the last run: $(grep -c . "$DROPS" || true) nonzero"
cat "$DROPS"
