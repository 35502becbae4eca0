#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test. This is the README's test command and
# what CI runs (.ci/run). Order: build, a short fuzz smoke run (clang, ASan+UBSan), then ctest,
# whose summary closes the output.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
./scripts/fuzz.sh "${AGENTOS_FUZZ_SECONDS:-30}"
ctest --test-dir build --output-on-failure --parallel "$(nproc)" --timeout 900
