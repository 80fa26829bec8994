#!/usr/bin/env bash
# Installs every Debian 12 package that tracectl's build, demo, tests and
# benchmarks need. Idempotent: when everything is there it only checks.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake pkg-config clang llvm bpftool libbpf-dev libelf-dev
  zlib1g-dev libgrpc++-dev libprotobuf-dev protobuf-compiler
  protobuf-compiler-grpc libabsl-dev libdw-dev libseccomp-dev libcli11-dev
  libgtest-dev libbenchmark-dev
  # demo, tests and benchmarks
  python3 python3-numpy strace util-linux linux-perf bpftrace bc ltrace
  # flame graph checks: a real browser, a real pprof reader, MiniDebugInfo
  chromium chromium-driver python3-selenium golang-go elfutils xz-utils
  # the units' checks: systemd-analyze verify, systemd-socket-activate;
  # remote hosts in network namespaces; certificates
  systemd iproute2 openssl
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: run as root to install: ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
