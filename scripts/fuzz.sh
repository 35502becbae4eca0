#!/usr/bin/env bash
# Builds the libFuzzer target with clang (ASan + UBSan) and runs it over the committed corpus.
#   scripts/fuzz.sh [SECONDS]   (default 30; CI runs a short smoke run)
# New inputs found go to build-fuzz/new-corpus (merge them into fuzz/corpus with -merge=1 when
# they add coverage); a crash leaves crash-* in the current directory and a non-zero exit.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAGENTOS_FUZZ=ON \
  -DAGENTOS_TESTS=OFF -DAGENTOS_BENCH=OFF >/dev/null
cmake --build build-fuzz --target fuzz_check
mkdir -p build-fuzz/new-corpus
echo "fuzz: running fuzz_check for ${seconds}s over fuzz/corpus"
./build-fuzz/fuzz/fuzz_check -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=4096 \
  -print_final_stats=1 build-fuzz/new-corpus fuzz/corpus 2>&1 | tail -n 12
