#!/usr/bin/env bash
# The cost of counting library calls: 200k malloc/free pairs (bench/
# malloc_loop.c, through the PLT) untraced, under `tracectl calls -e
# libc:malloc`, under bpftrace counting the same uprobe (the trap floor),
# and under `ltrace -c -e malloc`, in one run, as ratios and per-call cost.
# --latency adds a uretprobe; --by-caller looks up the mapping that holds
# each call's return address.
# The neighbour row times the untraced loop while a --pid session probes
# libc:malloc in another process (a sleep): its breakpoints are that
# process's only, so the neighbour should run at the untraced speed.
#
#   sudo bench/calls_bench.sh [ROUNDS]     (default 3 rounds, median kept;
#                                           ltrace takes ~40 s a round)
#
# Prints Markdown tables for bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
N=200000
deploy/build.sh >/dev/null
LOOP=build/bin/malloc_loop
LIBC=$(ldd "$LOOP" | awk '/libc.so.6/ {print $3}')

source bench/lib.sh
source deploy/temp-daemon.sh
SLEEPER=
cleanup() {
  [[ -n "$SLEEPER" ]] && kill "$SLEEPER" 2>/dev/null || true
  temp_daemon_stop
}
trap cleanup EXIT
temp_daemon_start

# The loop is what under_background_tracer (bench/lib.sh) times; uprobes get
# 0.3 s to settle.
WORKLOAD=("$LOOP" "$N")
SETTLE=0.3

sleep 3600 &
SLEEPER=$!

config untraced 'timed "$LOOP" "$N"'
config "tracectl calls -e libc:malloc --comm malloc_loop" \
  'under_background_tracer build/bin/tracectl calls -e libc:malloc --comm malloc_loop'
config "tracectl calls --latency -e libc:malloc --comm malloc_loop" \
  'under_background_tracer build/bin/tracectl calls --latency -e libc:malloc --comm malloc_loop'
config "tracectl calls --by-caller -e libc:malloc --comm malloc_loop" \
  'under_background_tracer build/bin/tracectl calls --by-caller -e libc:malloc --comm malloc_loop'
config "tracectl calls -e libc:malloc -- loop (whole run)" \
  'timed build/bin/tracectl calls -e libc:malloc -- "$LOOP" "$N"'
config "bpftrace uprobe count, comm filter (floor)" \
  "under_background_tracer bpftrace -e 'uprobe:$LIBC:malloc /comm == \"malloc_loop\"/ { @ = count(); }'"
config "neighbour of a --pid session on libc:malloc" \
  'under_background_tracer build/bin/tracectl calls -e libc:malloc --pid "$SLEEPER"'
if command -v ltrace >/dev/null; then
  config "ltrace -c -e malloc" \
    'timed ltrace -c -e malloc -o /dev/null "$LOOP" "$N"'
else
  echo "ltrace is not installed: its row is left out (apt-get install ltrace)" >&2
fi
run_rounds "$RUNS"
print_table "$LOOP, $N malloc/free pairs"
base=${results[untraced]}
echo
echo "| tool | added cost per malloc call |"
echo "|---|---|"
for name in "${NAMES[@]:1}"; do
  printf '| %s | %.3f us |\n' "$name" \
    "$(echo "(${results[$name]} - $base) * 1000000 / $N" | bc -l)"
done
