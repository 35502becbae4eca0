#!/usr/bin/env bash
# Decision latency of agentos against Cedar (cedar-wasm) on the same generated policies, plus the
# `agentos check` figure for 10,000 rules in 20 files. Builds, installs the npm package (from the
# lock file; nothing is fetched when it is already installed), runs, and prints one table.
# Stops by itself: each step has a time limit, the whole run takes about 3–4 minutes on 2 cores.
#
#   bench/run.sh                  # build dir: build-bench (Release), configured when missing
#   BUILD_DIR=build bench/run.sh  # any configured build directory
#   KEEP=1 bench/run.sh           # keep the results directory (its path is printed)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
cedar_dir=$root/bench/cedar
out=$(mktemp -d "${TMPDIR:-/tmp}/agentos-bench.XXXXXX")
if [[ -z "${KEEP:-}" ]]; then trap 'rm -rf "$out"' EXIT; fi

say() { printf "== [%3ds] %s\n" "$SECONDS" "$*" >&2; }

say "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load:$(uptime | sed 's/.*load average://')"
load1=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load1" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
  say "warning: the machine is busy (1-minute load $load1 on $(nproc) cores); figures will be noisy"
fi

if [[ ! -f "$build/CMakeCache.txt" ]]; then
  say "configuring $build (Release)"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DAGENTOS_TESTS=OFF >&2
fi
say "building decide_bench and check_bench in $build"
timeout 600 cmake --build "$build" --target decide_bench check_bench >&2

pkg=$cedar_dir/node_modules/@cedar-policy/cedar-wasm/package.json
want=$(node -e 'console.log(require(process.argv[1]).packages["node_modules/@cedar-policy/cedar-wasm"].version)' "$cedar_dir/package-lock.json")
have=$( [[ -f "$pkg" ]] && node -e 'console.log(require(process.argv[1]).version)' "$pkg" || true)
if [[ "$have" != "$want" ]]; then
  say "installing @cedar-policy/cedar-wasm $want (npm ci)"
  (cd "$cedar_dir" && timeout 300 npm ci --no-audit --no-fund >&2)
fi

say "generating the policies and checking agentos's own assumptions"
timeout 300 "$build/bench/decide_bench" --emit-cedar="$out/policies" >&2

say "Cedar: equivalence on every case, then timing"
timeout 300 node "$cedar_dir/bench.mjs" "$out/policies" --out="$out/cedar.json"

say "agentos: decide, route, gate"
timeout 300 "$build/bench/decide_bench" --benchmark_out="$out/decide.json" --benchmark_out_format=json >&2

say "agentos check: 10,000 rules across 20 files"
timeout 180 "$build/bench/check_bench" --benchmark_filter='check_set/20/10000' --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true --benchmark_out="$out/check.json" --benchmark_out_format=json >&2

say "load after the run:$(uptime | sed 's/.*load average://')"
echo
node "$cedar_dir/report.mjs" "$out/decide.json" "$out/cedar.json" "$out/check.json"
if [[ -n "${KEEP:-}" ]]; then say "results kept in $out"; fi
