#!/usr/bin/env bash
# The cost of CPU profiling: a fixed amount of CPU-bound work
# (tests/helpers/hot_helper.c --calls N: main -> work -> hot_a 3/4 and hot_b
# 1/4, built -O2 -fomit-frame-pointer, so only DWARF CFI unwinds it),
# untraced, under `tracectl flame` and under `perf record --call-graph dwarf`,
# in one run, as ratios. Both profilers sample at 99 Hz on cpu-clock.
# tracectld unwinds online; perf copies stacks and unwinds later, in
# `perf script`, timed as a row of its own. A session around /bin/true is
# tracectl's fixed cost (start: load and attach; end: detach, final profile).
#
# Besides wall times it reports the program's own time for its loop (it
# prints it), tracectld's CPU (utime+stime from /proc/PID/stat) per second
# of each round, and the sample counts both profilers print.
#
#   sudo bench/flame_bench.sh [ROUNDS]     (default 5 rounds, or $ROUNDS; median kept)
#   FLAME_WORK=N                           work() calls (default 900000, about 4 s)
#   FLAME_WORKLOAD=python                  a CPU-bound Python program instead
#                                          (bench/python_work.py, /usr/bin/python3:
#                                          Python frames read at each sample);
#                                          FLAME_WORK is then its rounds
#                                          (default 19000, about 4 s)
#   TRACECTL_BIN=DIR                       tracectl, tracectld and hot_helper
#                                          from DIR, not build/bin (then
#                                          nothing is built)
#
# Prints Markdown tables for bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-${ROUNDS:-5}}
WORKLOAD=${FLAME_WORKLOAD:-c}
if [[ -z "${TRACECTL_BIN:-}" ]]; then
  deploy/build.sh >/dev/null
  TRACECTL_BIN=build/bin
fi
BIN=$(cd "$TRACECTL_BIN" && pwd)
command -v perf >/dev/null || { echo "perf is not installed (apt-get install linux-perf)" >&2; exit 1; }

source bench/lib.sh
source deploy/temp-daemon.sh

TMP=$(mktemp -d /tmp/flame_bench.XXXXXX)
chmod 755 "$TMP"
trap 'temp_daemon_stop; rm -rf "$TMP"' EXIT

case "$WORKLOAD" in
  c)
    WORK_CALLS=${FLAME_WORK:-900000}
    PROG=("$BIN/hot_helper" --calls "$WORK_CALLS")
    DESCRIPTION="hot_helper --calls $WORK_CALLS (-O2 -fomit-frame-pointer -g)"
    ;;
  python)
    WORK_CALLS=${FLAME_WORK:-19000}
    cp bench/python_work.py "$TMP/"
    PROG=(/usr/bin/python3 "$TMP/python_work.py" "$WORK_CALLS")
    DESCRIPTION="/usr/bin/python3 bench/python_work.py $WORK_CALLS ($(/usr/bin/python3 --version))"
    ;;
  *) echo "FLAME_WORKLOAD is c or python, not $WORKLOAD" >&2; exit 2 ;;
esac

TRACECTL_BIN=$BIN
temp_daemon_start
DAEMON_PID=$TEMP_DAEMON_PID
TICK=$(getconf CLK_TCK)
# tracectld's utime+stime, in clock ticks (fields 14 and 15; the comm in
# parentheses is cut first).
daemon_ticks() { sed 's/^.*) //' "/proc/$DAEMON_PID/stat" | awk '{print $12 + $13}'; }

# measure KEY COMMAND...: runs it and prints its wall seconds. It appends,
# to files in $TMP named by KEY (run_rounds runs it in a subshell): the
# program's own loop seconds (its stdout's last line), tracectld's CPU
# seconds, the wall seconds, and the sample count the profiler printed.
measure() {
  local key=$1 t0 t1 c0 c1 w
  shift
  c0=$(daemon_ticks)
  t0=$(now)
  "$@" >"$TMP/out" 2>"$TMP/err"
  t1=$(now)
  c1=$(daemon_ticks)
  w=$(echo "$t1 - $t0" | bc -l)
  echo "$w" >>"$TMP/$key.wall"
  tail -n1 "$TMP/out" >>"$TMP/$key.own"
  echo "($c1 - $c0) / $TICK" | bc -l >>"$TMP/$key.daemon"
  # tracectl: "...; N samples in S s at 99 Hz"; perf: "... (N samples) ]".
  { grep -oE '[0-9]+ samples in|\([0-9]+ samples\)' "$TMP/err" | grep -oE '[0-9]+' | tail -n1; } >>"$TMP/$key.samples" || true
  echo "$w"
}

config untraced 'measure untraced "${PROG[@]}"'
config "tracectl flame -F 99 --format folded -o /dev/null" \
  'measure tracectl "$BIN/tracectl" flame --frequency 99 --format folded -o /dev/null -- "${PROG[@]}"'
config "  fixed cost: tracectl flame -- /bin/true" \
  'measure fixed "$BIN/tracectl" flame --frequency 99 --format folded -o /dev/null -- /bin/true'
config "perf record -e cpu-clock -F 99 --call-graph dwarf" \
  'measure perf perf record -e cpu-clock -F 99 --call-graph dwarf -o "$TMP/perf.data" -- "${PROG[@]}"'
config "  perf script (unwinding, after the run)" \
  'measure perfscript sh -c "perf script -i \"$TMP/perf.data\" >/dev/null"'
run_rounds "$RUNS"
print_table "$DESCRIPTION, sampled at 99 Hz on cpu-clock"

# Sum, median and list of what measure kept for KEY (own, daemon, wall, samples).
sum_of() { awk '{s += $1} END {printf "%.3f", s}' "$TMP/$1.$2"; }
median_of() { median <"$TMP/$1.$2"; }
list_of() { xargs printf "$3 " <"$TMP/$1.$2"; }
pct() { printf '%.2f' "$(echo "100 * $1 / $2" | bc -l)"; }

echo
echo "The program's own time for its loop (it prints it; session start and end left out), median:"
echo
echo "| run | loop seconds | ratio to untraced | runs |"
echo "|---|---|---|---|"
base=$(median_of untraced own)
for key in untraced tracectl perf; do
  m=$(median_of "$key" own)
  printf '| %s | %s | %.3fx | %s|\n' "$key" "$m" "$(echo "$m / $base" | bc -l)" \
    "$(list_of "$key" own %.3f)"
done

echo
echo "tracectld's CPU (utime+stime from /proc/PID/stat, $TICK ticks a second) over the rounds' wall time:"
echo
echo "| rounds | daemon CPU s, all rounds | wall s, all rounds | % of one core | daemon CPU s per round |"
echo "|---|---|---|---|---|"
for key in untraced tracectl fixed perf; do
  c=$(sum_of "$key" daemon)
  w=$(sum_of "$key" wall)
  printf '| %s | %s | %s | %s%% | %s|\n' "$key" "$c" "$w" "$(pct "$c" "$w")" \
    "$(list_of "$key" daemon %.2f)"
done
# The fixed cost taken out: what the daemon spends while the program runs.
c=$(echo "$(sum_of tracectl daemon) - $(sum_of fixed daemon)" | bc -l)
echo
echo "Less the fixed cost (tracectl rounds minus /bin/true rounds, over the program's own loop time):" \
  "$(pct "$c" "$(sum_of tracectl own)")% of one core"
echo
echo "Samples per round: tracectl flame: $(list_of tracectl samples %s); perf record: $(list_of perf samples %s)" \
  "(99 Hz over a loop of $base s is about $(printf '%.0f' "$(echo "99 * $base" | bc -l)"))"
