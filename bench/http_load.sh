#!/usr/bin/env bash
# Bounded HTTP load on `agentos serve` with wrk (docs/performance.md, "HTTP service"): starts the
# server on loopback over a fresh store in a temporary directory, seeds tasks through the API,
# then measures for --duration seconds each: reads (GET /api/tasks/{id}), decisions (POST
# /api/policy/evaluate, a dry run) and durable transitions (POST .../transitions, block/unblock,
# each acknowledged after its group commit). Prints requests/s and p50/p99 latency per kind, then
# stops the server with SIGTERM and runs `agentos store check` (invariants, audit chain, replay)
# on what it wrote.
#
#   bench/http_load.sh [--build DIR] [--duration S] [--connections N] [--threads T]
#                      [--tasks-per-thread N] [--dir DIR] [--keep] [--linger US]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
build="$root/build-bench"
duration=10
connections=32
threads=2
per_thread=2048
parent="${TMPDIR:-/tmp}"
keep=0
linger=0

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --tasks-per-thread) per_thread="$2"; shift 2 ;;
    --dir) parent="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    --linger) linger="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "http_load: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

agentos="$build/tools/agentos/agentos"
[ -x "$agentos" ] || { echo "http_load: no $agentos (build first, or --build DIR)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "http_load: wrk is not installed (scripts/setup.sh installs it)" >&2; exit 2; }

work="$(mktemp -d "$parent/agentos-http-load.XXXXXX")"
server=""
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then kill -TERM "$server"; wait "$server" || true; fi
  if [ "$keep" = 0 ]; then rm -rf "$work"; else echo "http_load: kept $work"; fi
}
trap cleanup EXIT

cat > "$work/tokens.json" <<'JSON'
{"tok-openclaw": "openclaw", "tok-claude": "claude", "tok-alex": "alex"}
JSON
"$agentos" serve --policy "$root/policies/agent-os.policy" --data "$work/var" --listen 127.0.0.1:0 \
  --tokens "$work/tokens.json" --linger "$linger" > "$work/serve.log" 2>&1 &
server=$!
port=""
for _ in $(seq 1 100); do
  port="$(sed -n 's#.* on http://127\.0\.0\.1:\([0-9]*\).*#\1#p' "$work/serve.log" | head -n 1)"
  [ -n "$port" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "http_load: the server did not start" >&2; cat "$work/serve.log" >&2; exit 1; }
url="http://127.0.0.1:$port"
export AGENTOS_BENCH_LUA="$here/http" AGENTOS_TASKS_PER_THREAD="$per_thread"

tasks=$((threads * per_thread))
echo "http_load: server $url (linger ${linger} us), $tasks tasks, wrk -t$threads -c$connections -d${duration}s, $(nproc) cores"
# Seeding through the API with curl (one process per step, keep-alive, 8 in parallel): create,
# assign (openclaw, the intake role), start (claude, the assignee).
seed() {
  local step="$1" token="$2" config="$work/seed-$1.curl" t i
  : > "$config"
  for t in $(seq 1 "$threads"); do
    for i in $(seq 1 "$per_thread"); do
      if [ "$step" = create ]; then
        printf 'url = "%s/api/tasks"\ndata = "{\\"id\\":\\"L%s-%s\\",\\"task\\":{\\"title\\":\\"load\\",\\"kind\\":\\"engineering\\"}}"\n' \
          "$url" "$t" "$i"
      else
        printf 'url = "%s/api/tasks/L%s-%s/transitions"\ndata = "{\\"event\\":\\"%s\\"}"\n' "$url" "$t" "$i" "$step"
      fi
      # `next` starts the next transfer's options, so every transfer carries its own headers.
      printf 'header = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\n' "$token"
      printf 'output = "/dev/null"\nwrite-out = "%%{http_code}\\n"\nnext\n'
    done
  done >> "$config"
  sed -i '$d' "$config"  # no `next` after the last transfer
  local codes
  codes="$(curl -s --no-progress-meter --parallel --parallel-max 8 -K "$config" | sort | uniq -c | tr -s ' ' | tr '\n' ' ')"
  echo "  seed $step: HTTP status counts:$codes"
  case "$codes" in
    " $tasks 20"[01]" ") ;;
    *) echo "http_load: seeding failed at $step" >&2; exit 1 ;;
  esac
}
seed create tok-openclaw
seed assign tok-openclaw
seed start tok-claude

# kind, script -> "kind  req/s  p50  p99  answers"
measure() {
  local kind="$1" script="$2" out
  out="$(wrk -t"$threads" -c"$connections" -d"${duration}s" --latency -s "$here/http/$script" "$url")"
  local rps p50 p99 answers
  rps="$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")"
  p50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
  p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
  answers="$(sed -n 's/^answers: //p' <<<"$out")"
  printf '  %-12s %12s req/s   p50 %-9s p99 %-9s (%s)\n' "$kind" "$rps" "$p50" "$p99" "$answers"
}
echo "results:"
measure reads read.lua
if [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Authorization: Bearer tok-claude' \
        -d '{}' "$url/api/policy/evaluate")" != 404 ]; then
  measure decisions evaluate.lua
else
  echo "  decisions    (no /api/policy/evaluate in this build)"
fi
measure transitions transition.lua

kill -TERM "$server"
wait "$server" || { echo "http_load: the server did not stop cleanly" >&2; exit 1; }
server=""
"$agentos" store check --data "$work/var" | tail -n 1  # the store's invariants, and the audit chain replayed
