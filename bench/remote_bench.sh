#!/usr/bin/env bash
# What a remote daemon costs the client: the round-trip of `tracectl info`
# and a whole `tracectl syscalls --duration 0.01` session (connect, TLS
# handshake, start, end, report), over mutual TLS on TCP (127.0.0.1) against
# the Unix socket, one tracectld serving both; then what 8 hosts at once
# cost the client against 1 (8 daemons on this machine, a 1 s syscalls
# session on each): its wall time and its own CPU time. Certificates are
# made here with openssl (P-256).
#
#   sudo bench/remote_bench.sh [ROUNDS]     (default 20, median kept)
#
# Prints Markdown tables for bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-20}
deploy/build.sh >/dev/null
source bench/lib.sh

DIR=$(mktemp -d /tmp/tracectl-remote.XXXXXX)
DAEMON=
MORE=()
cleanup() {
  for pid in $DAEMON "${MORE[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$DIR"
}
trap cleanup EXIT
(
  cd "$DIR"
  key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key"; }
  key ca
  openssl req -x509 -new -key ca.key -out ca.crt -subj /CN=bench-ca -days 2
  for name in server client; do
    key "$name"
    openssl req -new -key "$name.key" -out "$name.csr" -subj "/CN=$name"
    echo 'subjectAltName=IP:127.0.0.1' > "$name.ext"
    openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
      -out "$name.crt" -days 2 -extfile "$name.ext"
  done
  echo "client admin" > identities
) >/dev/null 2>&1
build/bin/tracectld --socket "$DIR/s.sock" --listen tcp:127.0.0.1:0 \
  --tls-cert "$DIR/server.crt" --tls-key "$DIR/server.key" \
  --tls-client-ca "$DIR/ca.crt" --remote-identities "$DIR/identities" \
  2>"$DIR/log" &
DAEMON=$!
for _ in $(seq 100); do
  grep -q ' port [0-9]' "$DIR/log" 2>/dev/null && break
  sleep 0.1
done
PORT=$(sed -n 's/.* port \([0-9]*\) .*/\1/p' "$DIR/log")
LOCAL=(build/bin/tracectl --socket "$DIR/s.sock")
REMOTE=(build/bin/tracectl --host "127.0.0.1:$PORT" --tls-ca "$DIR/ca.crt"
  --tls-cert "$DIR/client.crt" --tls-key "$DIR/client.key")
"${REMOTE[@]}" info >/dev/null  # the identity works

config "info, Unix socket" 'timed "${LOCAL[@]}" info'
config "info, mutual TLS on TCP" 'timed "${REMOTE[@]}" info'
config "syscalls session, Unix socket" \
  'timed "${LOCAL[@]}" syscalls --comm no-such-comm --duration 0.01'
config "syscalls session, mutual TLS on TCP" \
  'timed "${REMOTE[@]}" syscalls --comm no-such-comm --duration 0.01'
run_rounds "$RUNS"
print_table "tracectl info and a 0.01 s syscalls session, whole client run"

# 8 hosts: seven more daemons, each on its own port.
HOSTS=("127.0.0.1:$PORT")
for i in 1 2 3 4 5 6 7; do
  build/bin/tracectld --socket "$DIR/s$i.sock" --listen tcp:127.0.0.1:0 \
    --tls-cert "$DIR/server.crt" --tls-key "$DIR/server.key" \
    --tls-client-ca "$DIR/ca.crt" --remote-identities "$DIR/identities" \
    2>"$DIR/log$i" &
  MORE+=($!)
  for _ in $(seq 100); do
    grep -q ' port [0-9]' "$DIR/log$i" 2>/dev/null && break
    sleep 0.1
  done
  HOSTS+=("127.0.0.1:$(sed -n 's/.* port \([0-9]*\) .*/\1/p' "$DIR/log$i")")
done
TLS=(--tls-ca "$DIR/ca.crt" --tls-cert "$DIR/client.crt" --tls-key "$DIR/client.key")
ALL=$(IFS=,; echo "${HOSTS[*]}")
# Wall and CPU (user + system) seconds of one client run.
client_cost() {
  /usr/bin/time -f '%e %U %S' build/bin/tracectl --host "$1" "${TLS[@]}" \
    syscalls --comm no-such-comm --duration 1 2>&1 >/dev/null | tail -1
}
declare -A wall cpu
for round in $(seq 5); do
  for n in 1 8; do
    hosts=${HOSTS[0]}
    [[ $n == 8 ]] && hosts=$ALL
    read -r w u s < <(client_cost "$hosts")
    wall[$n]+="$w "
    cpu[$n]+="$(echo "$u + $s" | bc -l) "
  done
done
echo
echo "Workload: a 1 s syscalls session on 1 and on 8 hosts at once (8 daemons on this machine); median of 5 runs."
echo
echo "| hosts | client wall seconds | client CPU seconds (user + system) |"
echo "|---|---|---|"
for n in 1 8; do
  printf '| %s | %s | %s |\n' "$n" "$(printf '%s\n' ${wall[$n]} | median)" \
    "$(printf '%s\n' ${cpu[$n]} | median)"
done
