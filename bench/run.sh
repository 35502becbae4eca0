#!/usr/bin/env bash
# Decision latency of agentos against Cedar (cedar-wasm) on the same generated policies, plus the
# `agentos check` figure for 10,000 rules in 20 files; then durable commits per second of the task
# store against SQLite and against the LMDB floor (LMDB alone, same bytes, full groups), and store
# size and memory per million tasks (commit_bench). Builds,
# installs the npm package (from the lock file; nothing is fetched when it is already installed),
# runs, and prints the tables. Stops by itself: each step has a time limit, the whole run takes
# about 4–5 minutes on 2 cores.
#
#   bench/run.sh                  # everything; build dir: build-bench (Release), configured when missing
#   bench/run.sh decide           # only the decision and check benchmarks (with Cedar)
#   bench/run.sh commit           # only commit_bench
#   BUILD_DIR=build bench/run.sh  # any configured build directory
#   KEEP=1 bench/run.sh           # keep the results directory (its path is printed)
#   COMMIT_DIR=/path bench/run.sh # where commit_bench puts its stores (default: the build dir);
#                                 # must be a real disk, not tmpfs, or fsync costs nothing
#   COMMIT_ARGS=--quick bench/run.sh commit   # extra commit_bench flags (--quick: a smoke test)
set -euo pipefail

what=${1:-all}
case "$what" in
  all | decide | commit) ;;
  *) echo "usage: bench/run.sh [all|decide|commit]" >&2; exit 2 ;;
esac

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
targets=()
if [[ "$what" != commit ]]; then targets+=(decide_bench check_bench); fi
if [[ "$what" != decide ]]; then targets+=(commit_bench); fi
say "building ${targets[*]} in $build"
timeout 600 cmake --build "$build" --target "${targets[@]}" >&2

if [[ "$what" != commit ]]; then
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
fi

if [[ "$what" != decide ]]; then
  say "commit_bench: durable transitions/s against SQLite (1, 4, 32 clients), then size and memory"
  # shellcheck disable=SC2086  # COMMIT_ARGS is a list of flags
  timeout 600 "$build/bench/commit_bench" --dir="${COMMIT_DIR:-$build}" ${COMMIT_ARGS:-} >"$out/commit.md"
fi

say "load after the run:$(uptime | sed 's/.*load average://')"
if [[ "$what" != commit ]]; then
  echo
  node "$cedar_dir/report.mjs" "$out/decide.json" "$out/cedar.json" "$out/check.json"
fi
if [[ "$what" != decide ]]; then
  echo
  cat "$out/commit.md"
fi
if [[ -n "${KEEP:-}" ]]; then say "results kept in $out"; fi
