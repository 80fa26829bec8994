#!/usr/bin/env bash
# Installs, builds and runs the whole test suite (needs root: the tests load
# BPF programs and run parts as an unprivileged user).
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/build.sh
ctest --test-dir build --output-on-failure "$@"
