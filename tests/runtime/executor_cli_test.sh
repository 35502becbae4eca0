#!/usr/bin/env bash
# `agentos executor` as a process, against the real `agentos serve` with the shipped policy: its
# --help and usage errors (exit 2), then a direct task woken with a body shaped like Paperclip's
# HTTP-adapter wake (curl), run to result_review with the executor's result stored and one log
# line for the job; a bad body is 400; a second executor on the same port exits 2; SIGTERM stops
# it with exit 0. The wake logic itself is tested in tests/runtime/executor_test.cpp.
#
# Usage: executor_cli_test.sh AGENTOS SOURCE_DIR. Exits 77 (skipped) without curl or jq.
set -euo pipefail
agentos=$1
src=$2
. "$(dirname "$0")/serve_lib.sh"
require_tools executor_cli_test curl jq
unset AGENTOS_SIGNING_SECRET

tmp=$(mktemp -d)
EXECUTOR_PID=
stop_executor_now() {
  if [ -n "$EXECUTOR_PID" ]; then
    kill -KILL "$EXECUTOR_PID" 2> /dev/null || true
    wait "$EXECUTOR_PID" 2> /dev/null || true
  fi
}
trap 'stop_executor_now; kill_server; rm -rf "$tmp"' EXIT
fail() {
  echo "executor_cli_test: FAIL: $*"
  for f in "$tmp"/executor*.out "$tmp"/executor*.err; do
    [ -f "$f" ] && { echo "--- $f"; cat "$f"; }
  done
  exit 1
}

# expect_exit CODE PATTERN COMMAND...: the exit code is CODE and stdout+stderr match PATTERN.
expect_exit() {
  local want=$1 pattern=$2 code=0
  shift 2
  "$@" > "$tmp/run.out" 2>&1 || code=$?
  [ "$code" = "$want" ] || { cat "$tmp/run.out"; fail "$*: expected exit $want, got $code"; }
  grep -Eq -- "$pattern" "$tmp/run.out" || { cat "$tmp/run.out"; fail "$*: the output lacks /$pattern/"; }
}

alex=tok-alex-0123456789abcdef
openclaw=tok-openclaw-0123456789abcdef
claude=tok-claude-0123456789abcdef
cat > "$tmp/tokens.json" << JSON
{"$alex": "alex", "$openclaw": "openclaw", "$claude": "claude"}
JSON

# ---- options
expect_exit 0 'Exit status: 0 after a graceful stop' "$agentos" executor --help
expect_exit 2 'tokens is required' "$agentos" executor --listen 127.0.0.1:0
expect_exit 2 'error\[cli.usage\]: --agentos .* is not an http:// URL' \
  "$agentos" executor --tokens "$tmp/tokens.json" --agentos https://example.org
expect_exit 2 'error\[cli.io\]: --tokens: cannot read' "$agentos" executor --tokens "$tmp/missing.json"
expect_exit 2 'error\[cli.usage\]: --listen' "$agentos" executor --tokens "$tmp/tokens.json" --listen nowhere
expect_exit 2 'error\[cli.usage\]: --max-body' "$agentos" executor --tokens "$tmp/tokens.json" --max-body 10
AGENTOS_SIGNING_SECRET=short expect_exit 2 'AGENTOS_SIGNING_SECRET is shorter than 16 bytes' \
  "$agentos" executor --tokens "$tmp/tokens.json"

# ---- a running pair
start_server "$agentos" "$src/policies/agent-os.policy" "$tmp" "$tmp/tokens.json"

: > "$tmp/executor.out"  # the background job opens it only once it runs
"$agentos" executor --listen 127.0.0.1:0 --agentos "$SERVER_URL" --tokens "$tmp/tokens.json" --timeout 5000 \
  > "$tmp/executor.out" 2> "$tmp/executor.err" &
EXECUTOR_PID=$!
executor_url=
for _ in $(seq 1 100); do
  executor_url=$(sed -n 's|^agentos executor: listening on \(http://[^ ]*\) for .*|\1|p' "$tmp/executor.out")
  [ -n "$executor_url" ] && break
  kill -0 "$EXECUTOR_PID" 2> /dev/null || fail "agentos executor exited before it listened"
  sleep 0.1
done
[ -n "$executor_url" ] || fail "agentos executor did not print its URL within 10 s"
grep -q "for $SERVER_URL (3 agents with tokens)" "$tmp/executor.out" || fail "the first line does not name the server and the agents"
for _ in $(seq 1 100); do
  grep -q "^agentos executor: following the server's events (from now)$" "$tmp/executor.out" && break
  sleep 0.1
done
grep -q "^agentos executor: following the server's events (from now)$" "$tmp/executor.out" ||
  fail "the executor does not follow the server's events"

API_ANSWER=$tmp/answer.json  # where api and expect_api (serve_lib.sh) put each answer

expect_api 201 "$alex" POST /api/tasks '{"task":{"title":"Fix the flaky test","kind":"engineering"}}'
id=$(answer '.task.id')
expect_api 200 "$openclaw" POST "/api/tasks/$id/assign" '{"assignee":"claude"}'

# wake BODY: POSTs BODY to the executor; status in $status, answer in $tmp/wake.json.
wake() {
  status=$(curl -s -o "$tmp/wake.json" -w '%{http_code}' --max-time 10 -H 'Content-Type: application/json' \
    --data-binary "$1" "$executor_url/") || fail "no answer from the executor"
}
wake_body=$(jq -nc --arg task "$id" '{agentos_agent: "claude", agentId: "8c0e5a4e-1b0d-4a43-9d76-3f1c2b7e6a90",
  runId: "run-1", context: {wakeReason: "issue_assigned", issueId: "i-1",
  paperclipWake: {issue: {id: "i-1", identifier: "AGE-1", title: "Fix the flaky test",
                          description: ("Fix the flaky test\n\nagentos-task: " + $task + "\nagentos-callback: x\n"),
                          status: "todo", priority: "medium"}, comments: []}}}')
wake "$wake_body"
[ "$status" = 202 ] || fail "the wake: expected 202, got $status: $(cat "$tmp/wake.json")"
[ "$(jq -r .status "$tmp/wake.json")" = queued ] || fail "the wake was not queued: $(cat "$tmp/wake.json")"

state=
for _ in $(seq 1 200); do
  expect_api 200 "$alex" GET "/api/tasks/$id"
  state=$(answer '.task.state')
  [ "$state" = result_review ] && break
  sleep 0.1
done
[ "$state" = result_review ] || fail "the task is $state, not result_review, 20 s after the wake"
expect_api 200 "$alex" GET "/api/tasks/$id/artifacts/result/1"
case "$(answer .content)" in
  "Result for Fix the flaky test: done at version "*" of $id.") ;;
  *) fail "the stored result is not the executor's: $(answer .content)" ;;
esac
for _ in $(seq 1 50); do
  grep -q "^agentos executor: $id as claude" "$tmp/executor.out" && break
  sleep 0.1
done
grep -q "^agentos executor: $id as claude (issue_assigned, run run-1): took \`start\`; submitted the result v1; state result_review \[GET brief 200, POST start 200, GET brief 200, POST callback 200\]$" \
  "$tmp/executor.out" || fail "no log line for the job"

wake '{"runId": '
[ "$status" = 400 ] || fail "a bad body: expected 400, got $status"
[ "$(jq -r .error.code "$tmp/wake.json")" = wake.bad_json ] || fail "a bad body: $(cat "$tmp/wake.json")"

# The port is taken: a second executor cannot listen there.
port=${executor_url##*:}
expect_exit 2 "error\[executor.listen\]: cannot listen on 127.0.0.1:$port" \
  "$agentos" executor --listen "127.0.0.1:$port" --tokens "$tmp/tokens.json"

kill -TERM "$EXECUTOR_PID"
code=0
for _ in $(seq 1 100); do
  kill -0 "$EXECUTOR_PID" 2> /dev/null || break
  sleep 0.1
done
kill -0 "$EXECUTOR_PID" 2> /dev/null && fail "agentos executor did not stop within 10 s of SIGTERM"
wait "$EXECUTOR_PID" || code=$?
EXECUTOR_PID=
[ "$code" = 0 ] || fail "agentos executor exited $code after SIGTERM"
grep -q 'SIGTERM: stopping' "$tmp/executor.err" || fail "no stop message"
stop_server
echo "executor_cli_test: ok"
