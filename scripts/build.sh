#!/usr/bin/env bash
# Configures and builds into ./build (Release with debug info). Extra arguments go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
werror=OFF
if [ "${CI:-}" = "true" ]; then werror=ON; fi
cmake -S . -B build -G Ninja -DAGENTOS_WERROR="$werror" "$@" >/dev/null
cmake --build build --parallel "$(nproc)"
