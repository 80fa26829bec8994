#!/usr/bin/env bash
# What it costs to start and end a `tracectl calls` session on many
# functions: the whole run of `calls -e PROBE -- /bin/true`, which attaches
# every probe, runs the program and detaches, with one uprobe_multi link per
# file (the default on Linux 6.6+) and with a perf-event uprobe per function
# (tracectld --no-uprobe-multi, what older kernels get), against bpftrace
# 0.17 putting the same uprobes (a perf event each) and /bin/true untraced.
# Closing a perf-event uprobe waits for an RCU grace period, once per probe;
# a uprobe_multi link waits once.
#
#   sudo bench/calls_attach_bench.sh [ROUNDS]     (default 3, median kept)
#
# Prints Markdown tables for bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
deploy/build.sh >/dev/null
LIBC=$(ldd /bin/true | awk '/libc.so.6/ {print $3}')

source bench/lib.sh
source deploy/temp-daemon.sh
PERF_DIR=$(mktemp -d /tmp/tracectl-perf.XXXXXX)
chmod 755 "$PERF_DIR"
PERF_DAEMON=
cleanup() {
  [[ -n "$PERF_DAEMON" ]] && kill "$PERF_DAEMON" 2>/dev/null || true
  rm -rf "$PERF_DIR"
  temp_daemon_stop
}
trap cleanup EXIT
temp_daemon_start
start_daemon "$PERF_DIR" --no-uprobe-multi
PERF_DAEMON=$STARTED_DAEMON

for glob in getenv 'str*'; do
  n=$(build/bin/tracectl calls --list -e "libc:$glob" 2>/dev/null |
    grep -c 'libc.so.6' || true)
  what="$n functions"
  [[ "$n" == 1 ]] && what="1 function"
  NAMES=()
  config "untraced /bin/true" 'timed /bin/true'
  config "tracectl calls ($what, uprobe_multi)" \
    "timed build/bin/tracectl calls -e 'libc:$glob' -- /bin/true"
  config "tracectl calls ($what, a perf event each)" \
    "timed build/bin/tracectl --socket $PERF_DIR/s.sock calls -e 'libc:$glob' -- /bin/true"
  config "bpftrace -c /bin/true (same uprobes)" \
    "timed bpftrace -e 'uprobe:$LIBC:$glob { @[probe] = count(); }' -c /bin/true"
  samples=()
  run_rounds "$RUNS"
  print_table "/bin/true with libc:$glob probed, whole run"
done
