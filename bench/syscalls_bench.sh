#!/usr/bin/env bash
# The cost of counting system calls: a Python loop of 200k os.stat (200k
# newfstatat calls) untraced, under `tracectl syscalls --comm python`, under
# `strace -f -c`, `perf trace -s` and bpftrace, in one run, as ratios. The
# floor row is two empty BPF programs on the same hooks tracectl uses.
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

# perf trace reads tracepoint formats from tracefs.
if [[ ! -e /sys/kernel/tracing/events/raw_syscalls ]]; then
  mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
fi

source deploy/temp-daemon.sh
trap temp_daemon_stop EXIT
temp_daemon_start

now() { date +%s.%N; }
# Seconds one command takes.
timed() {
  local t0 t1
  t0=$(now)
  "$@" >/dev/null 2>&1
  t1=$(now)
  echo "$t1 - $t0" | bc -l
}
median() { sort -g | awk '{a[NR]=$1} END {printf "%.3f", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
prog_count() { bpftool prog list 2>/dev/null | grep -c '^[0-9]*:' || true; }

# Times the loop while a tracer runs in the background, started by "$@".
under_background_tracer() {
  local base pid t
  base=$(prog_count)
  "$@" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 200); do
    (( $(prog_count) > base )) && break
    sleep 0.05
  done
  sleep 0.2
  t=$(timed "$PY" -c "$LOOP")
  kill -INT "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "$t"
}

# Every round runs each configuration once, so drift of the machine over
# the run touches all of them alike; the median of the rounds is kept.
NAMES=()
declare -A commands samples results
config() {
  NAMES+=("$1")
  commands[$1]=$2
}
config untraced 'timed "$PY" -c "$LOOP"'
config "floor: empty sys_enter+sys_exit programs" \
  'under_background_tracer build/bin/hook_floor'
config "tracectl syscalls --comm python" \
  'under_background_tracer build/bin/tracectl syscalls --comm python'
config "tracectl syscalls -- python3 (whole run)" \
  'timed build/bin/tracectl syscalls -- "$PY" -c "$LOOP"'
config "strace -f -c" 'timed strace -f -c -o /dev/null "$PY" -c "$LOOP"'
config "perf trace -s" 'timed perf trace -s -o /dev/null "$PY" -c "$LOOP"'
if command -v bpftrace >/dev/null; then
  config "bpftrace count by comm,id" \
    "under_background_tracer bpftrace -e 'tracepoint:raw_syscalls:sys_enter /comm == \"python3\"/ { @[comm, args->id] = count(); }'"
fi
for round in $(seq "$RUNS"); do
  for name in "${NAMES[@]}"; do
    samples[$name]+="$(eval "${commands[$name]}") "
  done
  echo "round $round done" >&2
done
for name in "${NAMES[@]}"; do
  results[$name]=$(printf '%s\n' ${samples[$name]} | median)
  printf '%-42s %s s  (runs: %s)\n' "$name" "${results[$name]}" "${samples[$name]}" >&2
done

base=${results[untraced]}
echo
echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r), $(date -u +%Y-%m-%d)"
echo "Workload: $PY, 200k os.stat in a loop; median of $RUNS runs."
echo
echo "| tool | seconds | ratio to untraced |"
echo "|---|---|---|"
for name in "${NAMES[@]}"; do
  printf '| %s | %s | %.2fx |\n' "$name" "${results[$name]}" \
    "$(echo "${results[$name]} / $base" | bc -l)"
done
