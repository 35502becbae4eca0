#!/usr/bin/env bash
# scripts/agents-stack, the start-up entry point, end to end: it hydrates every workspace of a
# hydration configuration (creating the workspaces), then starts the real `agentos serve` with that
# configuration. Checked: the links are there before the server answers; a plan_first task routed
# to QA (whose org entry lacks submit-plan) is assigned, which a server started without hydration
# refuses; a second start changes no link; a broken configuration stops the start with exit 2 and
# no server.
#
# Usage: agents_stack_test.sh AGENTOS SOURCE_DIR. Exits 77 (skipped) without curl or jq.
set -euo pipefail
agentos=$1
src=$2
. "$(dirname "$0")/serve_lib.sh"
require_tools agents_stack_test curl jq

tmp=$(mktemp -d)
trap 'kill_server; rm -rf "$tmp"' EXIT
fail() {
  echo "agents_stack_test: FAIL: $*" >&2
  exit 1
}

cat > "$tmp/tokens.json" << 'JSON'
{ "tok-openclaw": "openclaw", "tok-alex": "alex" }
JSON
cat > "$tmp/hydration.json" << JSON
// QA's workspace gets the shipped write-back skills.
{
  "roots": ["$src/skills"],
  "global_defaults": ["submit-plan", "submit-result"],
  "shared_integrations": [],
  "project_defaults": { "agent_os": [] },
  "workspaces": [ { "path": "qa ws", "project": "agent_os", "agents": ["claude_qa"] } ]
}
JSON

# Creates a verification task for production work (routed to claude_qa, plan_first) and tries to
# assign it; prints the HTTP status of the assignment.
assign_status() {
  local created id
  created=$(curl -sS -H "Authorization: Bearer tok-openclaw" \
    -d '{"task":{"title":"verify the release","kind":"engineering","labels":["verification","production"]}}' \
    "$SERVER_URL/api/tasks")
  [ "$(printf '%s' "$created" | jq -r '.task.task.assignee + " " + .task.task.mode')" = "claude_qa plan_first" ] \
    || fail "the task was not routed to claude_qa as plan_first: $created"
  id=$(printf '%s' "$created" | jq -r '.task.id')
  [ -n "$id" ] || fail "no task id in: $created"
  curl -sS -o "$tmp/assign.json" -w '%{http_code}' -H "Authorization: Bearer tok-openclaw" \
    -d '{"event":"assign"}' "$SERVER_URL/api/tasks/$id/transitions"
}

# 1. Without the entry point (plain serve, nothing hydrated): refused.
mkdir -p "$tmp/plain"
start_server "$agentos" "$src/policies/agent-os.policy" "$tmp/plain" "$tmp/tokens.json" || fail "plain serve did not start"
status=$(assign_status)
[ "$status" = 422 ] || fail "plain serve: assignment answered $status, expected 422: $(cat "$tmp/assign.json")"
grep -q plan_first_needs_planner "$tmp/assign.json" || fail "the refusal does not name the rule: $(cat "$tmp/assign.json")"
stop_server || fail "plain serve did not stop cleanly"

# 2. Through scripts/agents-stack: hydrated first, then taken.
export AGENTOS="$agentos" AGENTOS_HYDRATION="$tmp/hydration.json"
mkdir -p "$tmp/stack"
SERVE_COMMAND="$src/scripts/agents-stack" start_server "$agentos" "$src/policies/agent-os.policy" "$tmp/stack" "$tmp/tokens.json" \
  || fail "agents-stack did not start the server"
for skill in submit-plan submit-result; do
  [ "$(readlink "$tmp/qa ws/.agents/skills/$skill")" = "$(cd "$src/skills/$skill" && pwd -P)" ] \
    || fail "$skill is not linked into the workspace: $(ls -la "$tmp/qa ws/.agents/skills" 2>&1)"
done
grep -q '2 links created' "$tmp/stack/serve.out" || fail "hydrate's summary is missing: $(cat "$tmp/stack/serve.out")"
status=$(assign_status)
[ "$status" = 200 ] || fail "agents-stack: assignment answered $status, expected 200: $(cat "$tmp/assign.json")"
stop_server || fail "agents-stack's server did not stop cleanly"

# 3. A second start changes nothing.
mkdir -p "$tmp/again"
SERVE_COMMAND="$src/scripts/agents-stack" start_server "$agentos" "$src/policies/agent-os.policy" "$tmp/again" "$tmp/tokens.json" \
  || fail "agents-stack did not start a second time"
grep -q '0 links created, 0 replaced, 0 removed, 0 drift left' "$tmp/again/serve.out" \
  || fail "the second hydration was not a no-op: $(cat "$tmp/again/serve.out")"
stop_server || fail "the second server did not stop cleanly"

# 4. A configuration error: exit 2, and no server.
printf '{ "roots": ["%s/no such root"], "workspaces": [] }\n' "$tmp" > "$tmp/broken.json"
set +e
AGENTOS_HYDRATION="$tmp/broken.json" "$src/scripts/agents-stack" --policy "$src/policies/agent-os.policy" \
  --data "$tmp/broken-data" --listen 127.0.0.1:0 --tokens "$tmp/tokens.json" > "$tmp/broken.out" 2>&1
code=$?
set -e
[ "$code" = 2 ] || fail "a broken configuration exited $code, expected 2: $(cat "$tmp/broken.out")"
grep -q 'hydration.root_missing' "$tmp/broken.out" || fail "the error is not named: $(cat "$tmp/broken.out")"
grep -q 'agentos: serving' "$tmp/broken.out" && fail "the server started despite the error"
[ ! -e "$tmp/broken-data" ] || fail "the data directory was created despite the error"

echo "agents_stack_test: ok"
