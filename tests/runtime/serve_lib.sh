# Sourced by the ctest scripts that drive the real `agentos serve` binary (slow_clients.sh,
# demo_test.sh, skills_test.sh, agents_stack_test.sh). Not executable on its own.
#
#   require_tools NAME TOOL...                exits 77 (skipped) when a TOOL is not installed
#   start_server AGENTOS POLICY DIR TOKENS [SERVE_OPTION...]
#                                            starts `agentos serve` on an ephemeral loopback port
#                                            over DIR/data, with any further options given;
#                                            sets SERVER_PID and SERVER_URL; SERVE_COMMAND (e.g.
#                                            scripts/agents-stack) replaces `AGENTOS serve`
#   stop_server                              SIGTERM; fails unless the server exits 0 within 20 s
#   kill_server                              for an EXIT trap: SIGKILL to a server still running
#   api TOKEN METHOD PATH [BODY]             one request to SERVER_URL with curl: the HTTP status in
#                                            $status, the answer in $API_ANSWER (the caller sets it)
#   expect_api STATUS TOKEN METHOD PATH [BODY]  the same, and `fail` unless the status is STATUS
#   answer FILTER                            a jq filter over the last answer (raw output)
#
# The server's output goes to DIR/serve.out and DIR/serve.err, shown when something fails. The
# api helpers need curl and jq, and a `fail MESSAGE` function of the caller's.

# require_tools NAME TOOL...: exits 77 (ctest's skip) naming the first TOOL that is not installed.
require_tools() {
  local name=$1 tool
  shift
  for tool in "$@"; do
    if ! command -v "$tool" > /dev/null; then
      echo "$name: $tool is not installed (scripts/setup.sh installs it): skipped"
      exit 77
    fi
  done
}

SERVER_PID=
SERVER_URL=
SERVER_DIR=

server_logs() {
  echo "--- agentos serve: stdout" >&2
  cat "$SERVER_DIR/serve.out" >&2 || true
  echo "--- agentos serve: stderr" >&2
  cat "$SERVER_DIR/serve.err" >&2 || true
}

start_server() {
  local agentos=$1 policy=$2 dir=$3 tokens=$4
  shift 4
  SERVER_DIR=$dir
  # SERVE_COMMAND (a command that takes serve's options, e.g. scripts/agents-stack) replaces
  # `AGENTOS serve` when set.
  ${SERVE_COMMAND:-"$agentos" serve} --policy "$policy" --data "$dir/data" --listen 127.0.0.1:0 --tokens "$tokens" "$@" \
    > "$dir/serve.out" 2> "$dir/serve.err" &
  SERVER_PID=$!
  # The server prints `agentos: serving DIR on http://HOST:PORT (...)` once it listens.
  for _ in $(seq 1 300); do
    SERVER_URL=$(sed -n 's|^agentos: serving .* on \(http://[^ ]*\) (.*|\1|p' "$dir/serve.out")
    [ -n "$SERVER_URL" ] && return 0
    if ! kill -0 "$SERVER_PID" 2> /dev/null; then
      echo "agentos serve exited before it listened" >&2
      server_logs
      SERVER_PID=
      return 1
    fi
    sleep 0.1
  done
  echo "agentos serve did not print its URL within 30 s" >&2
  server_logs
  return 1
}

stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  local pid=$SERVER_PID
  SERVER_PID=
  kill -TERM "$pid"
  for _ in $(seq 1 200); do
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2> /dev/null; then
    echo "agentos serve did not stop within 20 s of SIGTERM" >&2
    kill -KILL "$pid"
    wait "$pid" || true
    server_logs
    return 1
  fi
  local code=0
  wait "$pid" || code=$?
  if [ "$code" -ne 0 ]; then
    echo "agentos serve exited $code after SIGTERM (expected 0)" >&2
    server_logs
    return 1
  fi
}

# For an EXIT trap: stops a server still running (a failed test) without judging its exit.
kill_server() {
  if [ -n "$SERVER_PID" ]; then
    kill -KILL "$SERVER_PID" 2> /dev/null || true
    wait "$SERVER_PID" 2> /dev/null || true
    SERVER_PID=
  fi
}

api() {
  local token=$1 method=$2 path=$3 body=${4-}
  local out=${API_ANSWER:?set API_ANSWER to the file api writes answers to}
  local args=(-s -o "$out" -w '%{http_code}' --max-time 30 -X "$method" -H "Authorization: Bearer $token")
  if [ -n "$body" ]; then args+=(-H 'Content-Type: application/json' --data-binary "$body"); fi
  status=$(curl "${args[@]}" "$SERVER_URL$path") || fail "no answer from $SERVER_URL$path"
}

expect_api() {
  local want=$1
  shift
  api "$@"
  [ "$status" = "$want" ] || fail "$2 $3: expected HTTP $want, got $status: $(cat "$API_ANSWER")"
}

answer() { jq -r "$1" "$API_ANSWER"; }
