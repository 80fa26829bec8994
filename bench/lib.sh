# Shared by the benchmarks (sourced): a temporary daemon, timing, and rounds
# of configurations run interleaved, so that drift of the machine touches
# all of them alike; the median of the rounds is kept.
#
#   config NAME 'COMMAND'     register a configuration (eval'd; prints seconds)
#   run_rounds N              run every configuration N times, interleaved
#   print_table WORKLOAD      the Markdown table, ratios to the first one

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
# Starts another tracectld on DIR/s.sock with FLAGS (its log in DIR/log)
# and waits until it answers; its pid is left in $STARTED_DAEMON.
start_daemon() {
  local dir=$1
  shift
  build/bin/tracectld --socket "$dir/s.sock" "$@" 2>"$dir/log" &
  STARTED_DAEMON=$!
  for _ in $(seq 100); do
    build/bin/tracectl --socket "$dir/s.sock" info >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "tracectld $* did not start:" >&2
  cat "$dir/log" >&2
  return 1
}
prog_count() { bpftool prog list 2>/dev/null | grep -c '^[0-9]*:' || true; }

# perf trace reads tracepoint formats from tracefs.
mount_tracefs() {
  if [[ ! -e /sys/kernel/tracing/events/raw_syscalls ]]; then
    mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
  fi
}

# Times the workload while a tracer runs in the background, started by "$@":
# "${WORKLOAD[@]}" when the script sets it, else "$PY -c $LOOP". The tracer
# gets $SETTLE seconds (default 0.2) after its programs load.
under_background_tracer() {
  local base pid t
  base=$(prog_count)
  "$@" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 200); do
    (( $(prog_count) > base )) && break
    sleep 0.05
  done
  sleep "${SETTLE:-0.2}"
  if [[ -n "${WORKLOAD+x}" ]]; then
    t=$(timed "${WORKLOAD[@]}")
  else
    t=$(timed "$PY" -c "$LOOP")
  fi
  kill -INT "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "$t"
}

NAMES=()
declare -A commands samples results
config() {
  NAMES+=("$1")
  commands[$1]=$2
}

run_rounds() {
  local round name
  for round in $(seq "$1"); do
    for name in "${NAMES[@]}"; do
      samples[$name]+="$(eval "${commands[$name]}") "
    done
    echo "round $round done" >&2
  done
  for name in "${NAMES[@]}"; do
    results[$name]=$(printf '%s\n' ${samples[$name]} | median)
    printf '%-42s %s s  (runs: %s)\n' "$name" "${results[$name]}" "${samples[$name]}" >&2
  done
}

print_table() {
  local base=${results[${NAMES[0]}]} name
  echo
  echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r), $(date -u +%Y-%m-%d)"
  echo "Workload: $1; median of $RUNS runs."
  echo
  echo "| tool | seconds | ratio to untraced |"
  echo "|---|---|---|"
  for name in "${NAMES[@]}"; do
    printf '| %s | %s | %.2fx |\n' "$name" "${results[$name]}" \
      "$(echo "${results[$name]} / $base" | bc -l)"
  done
}
