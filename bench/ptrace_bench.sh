#!/usr/bin/env bash
# The ptrace backend against strace, whole runs: `tracectl syscalls -- CMD`
# on a daemon started with --backend ptrace, `strace -f -c`, and the BPF
# backend for reference, on two workloads: a Python loop of 200k os.stat,
# and the static syscall helper making 200k getppid calls. With a selected
# set, `tracectl trace -e trace=getppid` puts a seccomp filter in the
# command, as `strace --seccomp-bpf` does: the loop, which makes no getppid
# call, then never stops.
#
#   sudo bench/ptrace_bench.sh [ROUNDS]     (default 5 rounds, median kept)
#
# Prints Markdown tables for bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
deploy/build.sh >/dev/null
PY=/usr/bin/python3
LOOP='import os
for _ in range(200000): os.stat("/")'
HELPER=build/bin/syscall_helper

source bench/lib.sh
source deploy/temp-daemon.sh
PTRACE_DIR=$(mktemp -d /tmp/tracectl-ptrace.XXXXXX)
chmod 755 "$PTRACE_DIR"
cleanup() {
  if [[ -n "${PTRACE_PID:-}" ]]; then
    kill "$PTRACE_PID" 2>/dev/null
    wait "$PTRACE_PID" 2>/dev/null || true
  fi
  rm -rf "$PTRACE_DIR"
  temp_daemon_stop
}
trap cleanup EXIT
temp_daemon_start
start_daemon "$PTRACE_DIR" --backend ptrace
PTRACE_PID=$STARTED_DAEMON
PTRACE=(build/bin/tracectl --socket "$PTRACE_DIR/s.sock")
BPF=(build/bin/tracectl)

config "python untraced" 'timed "$PY" -c "$LOOP"'
config "python, strace -f -c" 'timed strace -f -c -o /dev/null "$PY" -c "$LOOP"'
config "python, tracectl syscalls (ptrace backend)" \
  'timed "${PTRACE[@]}" syscalls -- "$PY" -c "$LOOP"'
config "python, tracectl syscalls (BPF backend)" \
  'timed "${BPF[@]}" syscalls -- "$PY" -c "$LOOP"'
# A selected set: the loop makes no getppid call, so under a seccomp filter
# nothing stops.
config "python, strace -f -e trace=getppid" \
  'timed strace -f -e trace=getppid -o /dev/null "$PY" -c "$LOOP"'
config "python, strace -f --seccomp-bpf -e trace=getppid" \
  'timed strace -f --seccomp-bpf -e trace=getppid -o /dev/null "$PY" -c "$LOOP"'
config "python, tracectl trace -e trace=getppid (ptrace backend)" \
  'timed "${PTRACE[@]}" trace -e trace=getppid -o /dev/null -- "$PY" -c "$LOOP"'
run_rounds "$RUNS"
print_table "$PY, 200k os.stat in a loop, whole run"

NAMES=()
config "helper untraced" 'timed "$HELPER" 200000 0 0'
config "helper, strace -f -c" 'timed strace -f -c -o /dev/null "$HELPER" 200000 0 0'
config "helper, strace -f --seccomp-bpf -e trace=getppid" \
  'timed strace -f --seccomp-bpf -e trace=getppid -o /dev/null "$HELPER" 200000 0 0'
config "helper, tracectl syscalls (ptrace backend)" \
  'timed "${PTRACE[@]}" syscalls -- "$HELPER" 200000 0 0'
config "helper, tracectl syscalls (BPF backend)" \
  'timed "${BPF[@]}" syscalls -- "$HELPER" 200000 0 0'
config "helper, tracectl trace -e trace=getppid (ptrace backend)" \
  'timed "${PTRACE[@]}" trace -e trace=getppid -o /dev/null -- "$HELPER" 200000 0 0'
run_rounds "$RUNS"
print_table "syscall_helper, 200k getppid, whole run"
