#!/usr/bin/env bash
# Installs what is missing and builds build/bin/tracectld and build/bin/tracectl.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)"
