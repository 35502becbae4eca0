#!/usr/bin/env bash
# Issue 7 end to end against a real Paperclip (scripts/paperclip.sh), a real `agentos serve
# --paperclip` (projector and reconciler) and the real `agentos executor`, driven only through
# agentos's API and Paperclip's API:
#
#   1. a direct task: created and assigned in agentos -> the issue appears, assigned -> the
#      assignment wakes the executor -> its result is stored -> the issue is in_review; the parent
#      accepts in agentos -> the issue is done.
#   2. a plan_first task (risk medium): the executor's plan -> the issue's `plan` document and a
#      pending approval in Paperclip -> the board approves it in Paperclip -> the backend task is
#      executing, the audit has approve_plan by alex -> result -> accepted -> done.
#   3. an operator status jump the policy forbids (an in_progress issue PATCHed to done): reverted
#      to the backend's status with a comment giving the reason; the task unchanged; the denial in
#      the audit.
#   4. the backend killed (SIGTERM) after a task is created and restarted: no issue or agent
#      projected twice, and the flow completes.
#   5. Paperclip stopped and started again on the same data: an operator action made right after
#      the restart (approving a plan) reaches the backend (the reconciler catches up).
#   6. `agentos projection check` reports no drift.
#
# Paperclip can run only once per machine (its PostgreSQL port is fixed): the script takes the
# machine-wide lock the other Paperclip tests take (AGENTOS_PAPERCLIP_LOCK, default
# /tmp/agentos-paperclip-e2e.lock) for as long as it runs, waiting for it if needed; a caller that
# holds it already sets AGENTOS_PAPERCLIP_LOCK_HELD=1.
#
#   tests/paperclip/projection_e2e.sh build/tools/agentos/agentos .
#
# Environment: AGENTOS_E2E_PAPERCLIP_PORT (default 3133), AGENTOS_E2E_WAIT (seconds per wait,
# default 60), AGENTOS_E2E_STEPS (the steps to run, default "1 2 3 4 5 6"; for debugging one), AGENTOS_PAPERCLIP_STATE (default: a directory of the test's own), and those of
# scripts/paperclip.sh.
# Exit status: 0 passed; 1 a step failed (what was seen is printed, with the logs); 77 Paperclip
# is not installed or curl/jq are missing (skipped).
set -euo pipefail
agentos=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$(cd "$2" && pwd)
pc="$src/scripts/paperclip.sh"

if ! "$pc" install --check > /dev/null 2>&1; then
  echo "projection_e2e: Paperclip is not installed (scripts/paperclip.sh install): skipped"
  exit 77
fi
for tool in curl jq; do
  command -v "$tool" > /dev/null || {
    echo "projection_e2e: $tool is not installed: skipped"
    exit 77
  }
done
unset AGENTOS_SIGNING_SECRET

# The lock is fd 9 of this shell only: every process started below gets `9>&-`, so none of them
# (Paperclip's PostgreSQL above all) can keep holding it after this script ends.
if [ "${AGENTOS_PAPERCLIP_LOCK_HELD:-}" != 1 ]; then
  lock=${AGENTOS_PAPERCLIP_LOCK:-/tmp/agentos-paperclip-e2e.lock}
  exec 9>> "$lock"
  if ! flock -n 9; then
    echo "projection_e2e: waiting for $lock (another Paperclip user)"
    flock 9
  fi
fi

pc_port=${AGENTOS_E2E_PAPERCLIP_PORT:-3133}
wait_s=${AGENTOS_E2E_WAIT:-60}
steps=" ${AGENTOS_E2E_STEPS:-1 2 3 4 5 6} "
want() { [[ $steps == *" $1 "* ]]; }
work=$(mktemp -d)
export AGENTOS_PAPERCLIP_STATE=${AGENTOS_PAPERCLIP_STATE:-$work/pc-state}
# The run user (not root) owns Paperclip's data: it cannot live under the root-only $work.
pc_data=$(mktemp -d "${TMPDIR:-/tmp}/agentos-e2e-paperclip.XXXXXX")
pc_url=http://127.0.0.1:$pc_port
company=agentos-e2e
SERVE_PID=
EXECUTOR_PID=
t0=$SECONDS

# ---- processes

show_logs() {
  for f in "$work"/serve.out "$work"/serve.err "$work"/executor.out "$work"/executor.err; do
    [ -s "$f" ] && { echo "--- $f (last 60 lines)"; tail -n 60 "$f"; }
  done
  [ -f "$AGENTOS_PAPERCLIP_STATE/paperclip.log" ] && {
    echo "--- paperclip.log (last 30 lines)"
    tail -n 30 "$AGENTOS_PAPERCLIP_STATE/paperclip.log"
  }
  return 0
}
kill_pid() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill -KILL "$pid" 2> /dev/null || true
  wait "$pid" 2> /dev/null || true
}
cleanup() {
  kill_pid "$SERVE_PID"
  kill_pid "$EXECUTOR_PID"
  "$pc" stop > /dev/null 2>&1 || true
  rm -rf "$work" "$pc_data"
}
trap cleanup EXIT
fail() {
  echo "projection_e2e: FAIL: $*"
  show_logs
  exit 1
}
step() { echo "projection_e2e: $* ($((SECONDS - t0)) s)"; }

# A free loopback port: agentos serve must come back on the same one after a restart (the
# executor and the issues' callback lines name it), so it is chosen here rather than by the server.
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<> "/dev/tcp/127.0.0.1/$p") 2> /dev/null; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

# stop_pid PID NAME: SIGTERM, then waits up to 30 s for exit 0.
stop_pid() {
  local pid=$1 name=$2 code=0
  kill -TERM "$pid"
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2> /dev/null && fail "$name did not stop within 30 s of SIGTERM"
  wait "$pid" || code=$?
  [ "$code" = 0 ] || fail "$name exited $code after SIGTERM"
}

serve_port=$(free_port) || fail "no free port for agentos serve"
serve_url=http://127.0.0.1:$serve_port

start_serve() {
  "$agentos" serve --policy "$src/policies/agent-os.policy" --data "$work/data" --listen "127.0.0.1:$serve_port" \
    --tokens "$work/tokens.json" --paperclip "$pc_url" --paperclip-company "$company" \
    --paperclip-executor "$executor_url" >> "$work/serve.out" 2>> "$work/serve.err" 9>&- &
  SERVE_PID=$!
  for _ in $(seq 1 300); do
    curl -sf -o /dev/null "$serve_url/health" && return 0
    kill -0 "$SERVE_PID" 2> /dev/null || fail "agentos serve exited before it listened"
    sleep 0.1
  done
  fail "agentos serve did not answer /health within 30 s"
}
stop_serve() {
  stop_pid "$SERVE_PID" "agentos serve"
  SERVE_PID=
}
start_paperclip() {
  AGENTOS_PAPERCLIP_ALLOW=$executor_origin "$pc" start --port "$pc_port" --data "$pc_data" > "$work/pc-start.log" 2>&1 9>&- ||
    {
      cat "$work/pc-start.log"
      fail "Paperclip did not start"
    }
}

# ---- API helpers

# ao TOKEN METHOD PATH [BODY]: agentos; status in $status, answer in $work/ao.json.
ao() {
  local token=$1 method=$2 path=$3 body=${4-}
  local args=(-s -o "$work/ao.json" -w '%{http_code}' --max-time 30 -X "$method" -H "Authorization: Bearer $token")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  status=$(curl "${args[@]}" "$serve_url$path") || status=000
}
expect_ao() {
  local want=$1
  shift
  ao "$@"
  [ "$status" = "$want" ] || fail "agentos $2 $3: expected HTTP $want, got $status: $(head -c 2000 "$work/ao.json")"
}
# pc METHOD PATH [BODY]: Paperclip as the board (no token, local_trusted); status in $status,
# answer in $work/pc.json.
pc() {
  local method=$1 path=$2 body=${3-}
  local args=(-s -o "$work/pc.json" -w '%{http_code}' --max-time 30 -X "$method")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  status=$(curl "${args[@]}" "$pc_url/api$path") || status=000
}
expect_pc() {
  local want=$1
  shift
  pc "$@"
  [ "$status" = "$want" ] || fail "Paperclip $1 $2: expected HTTP $want, got $status: $(head -c 2000 "$work/pc.json")"
}

# wait_until DESCRIPTION COMMAND...: runs COMMAND every 0.5 s until it succeeds, for at most
# $wait_s seconds. COMMAND sets $seen to what it saw, which the failure prints.
seen=
wait_until() {
  local what=$1
  shift
  local deadline=$((SECONDS + wait_s))
  seen=
  while :; do
    "$@" && return 0
    [ $SECONDS -ge $deadline ] && fail "waited ${wait_s} s for $what; last seen: $seen"
    sleep 0.5
  done
}

# ---- what each side shows

company_id=
# The company's id, once the projector has created it.
company_known() {
  pc GET /companies
  [ "$status" = 200 ] || {
    seen="GET /companies: $status"
    return 1
  }
  company_id=$(jq -r --arg n "$company" '[.[] | select(.name == $n)] | if length == 1 then .[0].id else empty end' "$work/pc.json")
  seen=$(jq -c '[.[] | .name]' "$work/pc.json")
  [ -n "$company_id" ]
}
# The Paperclip id of the agent named NAME (agentos id), or empty.
pc_agent() {
  pc GET "/companies/$company_id/agents"
  jq -r --arg n "$1" '[.[] | select(.name == $n)] | if length == 1 then .[0].id else empty end' "$work/pc.json"
}
# issue_of TASK: the issue whose description has the line `agentos-task: TASK`, into $work/issue.json
# and $issue; false unless exactly one exists.
issue=
issue_of() {
  pc GET "/companies/$company_id/issues"
  [ "$status" = 200 ] || {
    seen="GET issues: $status"
    return 1
  }
  jq --arg line "agentos-task: $1" '[.[] | select((.description // "") | split("\n") | map(sub("^\\s+"; "") | sub("\\s+$"; "")) | index($line))]' \
    "$work/pc.json" > "$work/issues-of.json"
  local n
  n=$(jq length "$work/issues-of.json")
  seen="$n issues for $1"
  [ "$n" = 1 ] || return 1
  jq '.[0]' "$work/issues-of.json" > "$work/issue.json"
  issue=$(jq -r .id "$work/issue.json")
}
# issue_is TASK STATUS [ASSIGNEE]: the task's issue has this status (and assignee).
issue_is() {
  issue_of "$1" || return 1
  pc GET "/issues/$issue"
  seen=$(jq -c '{identifier, status, assigneeAgentId}' "$work/pc.json")
  [ "$(jq -r .status "$work/pc.json")" = "$2" ] || return 1
  [ $# -lt 3 ] || [ "$(jq -r .assigneeAgentId "$work/pc.json")" = "$3" ]
}
issue_assigned() {
  issue_of "$1" || return 1
  seen=$(jq -c '{identifier, status, assigneeAgentId}' "$work/issue.json")
  [ "$(jq -r .assigneeAgentId "$work/issue.json")" = "$2" ]
}
# task_is TASK STATE: the backend task is in STATE.
task_is() {
  ao "$alex" GET "/api/tasks/$1"
  seen=$(jq -c '{state: .task.state, version, assignee: .task.assignee}' "$work/ao.json" 2> /dev/null || echo "HTTP $status")
  [ "$status" = 200 ] && [ "$(jq -r .task.state "$work/ao.json")" = "$2" ]
}
# audit_has TASK EVENT ACTOR EFFECT: an audit record of the task with these fields.
audit_has() {
  ao "$alex" GET "/api/audit?task=$1&limit=10000"
  seen=$(jq -c '[.records[] | "\(.event // .kind):\(.actor // "-"):\(.effect)"]' "$work/ao.json")
  jq -e --arg e "$2" --arg a "$3" --arg f "$4" \
    'any(.records[]; .event == $e and .actor == $a and .effect == $f)' "$work/ao.json" > /dev/null
}
audit_count() {
  ao "$alex" GET "/api/audit?task=$1&limit=10000"
  jq '.records | length' "$work/ao.json"
}
# create_task JSON ASSIGNEE: creates the task as alex, then the Chief of Staff assigns it
# (intake -> routed); prints its id.
create_task() {
  expect_ao 201 "$alex" POST /api/tasks "{\"task\": $1}"
  local id
  id=$(jq -r .task.id "$work/ao.json")
  expect_ao 200 "$openclaw" POST "/api/tasks/$id/assign" "{\"assignee\": \"$2\"}"
  [ "$(jq -r .task.state "$work/ao.json")" = routed ] || fail "$id is not routed after assign: $(cat "$work/ao.json")"
  echo "$id"
}
result_stored() {
  ao "$alex" GET "/api/tasks/$1/artifacts/result/1"
  seen="HTTP $status $(head -c 300 "$work/ao.json")"
  [ "$status" = 200 ] && jq -e '.content | startswith("Result for ")' "$work/ao.json" > /dev/null
}
plan_document() {
  pc GET "/issues/$1/documents/plan"
  seen="HTTP $status $(jq -c '{key, latestRevisionNumber, body: (.body // "" | .[0:80])}' "$work/pc.json" 2> /dev/null)"
  [ "$status" = 200 ] && jq -e '.body | startswith("Plan for ")' "$work/pc.json" > /dev/null
}
approval=
pending_approval() {
  pc GET "/issues/$1/approvals"
  seen=$(jq -c '[.[] | {id, status, type}]' "$work/pc.json" 2> /dev/null || echo "HTTP $status")
  approval=$(jq -r '[.[] | select(.status == "pending")] | if length == 1 then .[0].id else empty end' "$work/pc.json")
  [ -n "$approval" ]
}
# A comment of the issue whose body contains TEXT.
comment_has() {
  pc GET "/issues/$1/comments"
  seen=$(jq -c '[.[] | {authorType, body: (.body | .[0:160])}] | .[0:5]' "$work/pc.json")
  jq -e --arg t "$2" 'any(.[]; .body | contains($t))' "$work/pc.json" > /dev/null
}
# counts: "<issues> <agents>" in the company, and whether any agent name or task line repeats.
counts() {
  pc GET "/companies/$company_id/issues"
  local issues dup_issues
  issues=$(jq length "$work/pc.json")
  dup_issues=$(jq '[.[] | (.description // "") | split("\n")[] | select(startswith("agentos-task:"))] | group_by(.) | map(select(length > 1)) | length' "$work/pc.json")
  pc GET "/companies/$company_id/agents"
  local agents dup_agents
  agents=$(jq length "$work/pc.json")
  dup_agents=$(jq '[.[] | .name] | group_by(.) | map(select(length > 1)) | length' "$work/pc.json")
  echo "$issues $agents $dup_issues $dup_agents"
}

# ---- setup

alex=tok-e2e-alex-4f1c9a2b7d
openclaw=tok-e2e-openclaw-8e2d1c
claude=tok-e2e-claude-3b7a9e
claude_pm=tok-e2e-claude-pm-6c1f2d
claude_qa=tok-e2e-claude-qa-9a4e7b
codex=tok-e2e-codex-2d8c5f
ledger=tok-e2e-ledger-7f3a1e
openclaw_ea=tok-e2e-openclaw-ea-5b9d
cat > "$work/tokens.json" << JSON
{"$alex": "alex", "$openclaw": "openclaw", "$claude": "claude", "$claude_pm": "claude_pm",
 "$claude_qa": "claude_qa", "$codex": "codex", "$ledger": "ledger", "$openclaw_ea": "openclaw_ea"}
JSON
# The executor acts for every agent but codex, whose task (step 3) must stay in progress.
jq 'with_entries(select(.value != "codex"))' "$work/tokens.json" > "$work/executor-tokens.json"

: > "$work/executor.out"  # the background job opens it only once it runs
"$agentos" executor --listen 127.0.0.1:0 --agentos "$serve_url" --tokens "$work/executor-tokens.json" \
  > "$work/executor.out" 2> "$work/executor.err" 9>&- &
EXECUTOR_PID=$!
executor_url=
for _ in $(seq 1 100); do
  executor_url=$(sed -n 's|^agentos executor: listening on \(http://[^ ]*\) for .*|\1|p' "$work/executor.out")
  [ -n "$executor_url" ] && break
  kill -0 "$EXECUTOR_PID" 2> /dev/null || fail "agentos executor exited before it listened"
  sleep 0.1
done
[ -n "$executor_url" ] || fail "agentos executor did not print its URL"
executor_origin=$executor_url

start_paperclip
step "Paperclip on $pc_url, executor on $executor_url"
start_serve
step "agentos serve on $serve_url"

wait_until "the company $company in Paperclip" company_known
expect_ao 200 "$alex" GET /api/agents
agents_in_org=$(jq '[.agents[] | select(.kind == "agent")] | length' "$work/ao.json")
all_agents() {
  pc GET "/companies/$company_id/agents"
  seen=$(jq -c '[.[] | .name]' "$work/pc.json")
  [ "$(jq length "$work/pc.json")" = "$agents_in_org" ]
}
wait_until "$agents_in_org agents in Paperclip" all_agents
step "setup: company $company_id, $agents_in_org agents projected"

# ---- 1. a direct task
if want 1; then
  claude_pc=$(pc_agent claude)
  [ -n "$claude_pc" ] || fail "no Paperclip agent named claude"
  t1=$(create_task '{"title": "Fix the flaky login test", "kind": "engineering"}' claude)
  wait_until "$t1's issue, assigned to claude" issue_assigned "$t1" "$claude_pc"
  wait_until "$t1 in result_review (woken, result submitted)" task_is "$t1" result_review
  wait_until "$t1's result stored" result_stored "$t1"
  wait_until "$t1's issue in_review" issue_is "$t1" in_review "$claude_pc"
  expect_ao 200 "$claude_pm" POST "/api/tasks/$t1/reviews" '{"decision": "accept_result"}'
  wait_until "$t1's issue done" issue_is "$t1" done
  task_is "$t1" done || fail "$t1 is not done: $seen"
  step "1. direct task $t1: assigned, woken, result, in_review, accepted, done"
fi

# ---- 2. a plan_first task approved in Paperclip
if want 2; then
  claude_pm_pc=$(pc_agent claude_pm)
  t2=$(create_task '{"title": "Migrate the session store", "kind": "engineering", "risk": "medium"}' claude_pm)
  ao "$alex" GET "/api/tasks/$t2"
  [ "$(jq -r .task.mode "$work/ao.json")" = plan_first ] || fail "$t2 is not plan_first"
  wait_until "$t2 in plan_review" task_is "$t2" plan_review
  wait_until "$t2's issue in_review" issue_is "$t2" in_review "$claude_pm_pc"
  wait_until "$t2's plan document" plan_document "$issue"
  wait_until "$t2's pending approval" pending_approval "$issue"
  expect_pc 200 POST "/approvals/$approval/approve" '{"decisionNote": "looks right"}'
  wait_until "$t2 approved in the backend (executing or later)" \
    audit_has "$t2" approve_plan alex allow
  wait_until "$t2 in result_review" task_is "$t2" result_review
  wait_until "$t2's issue in_review again" issue_is "$t2" in_review
  expect_ao 200 "$openclaw" POST "/api/tasks/$t2/reviews" '{"decision": "accept_result"}'
  wait_until "$t2's issue done" issue_is "$t2" done
  step "2. plan_first task $t2: plan document, approval in Paperclip -> approve_plan by alex, result, done"
fi

# ---- 3. a status jump the policy forbids
if want 3; then
  codex_pc=$(pc_agent codex)
  t3=$(create_task '{"title": "Hotfix the checkout", "kind": "engineering", "labels": ["hotfix"]}' codex)
  expect_ao 200 "$codex" POST "/api/tasks/$t3/transitions" '{"event": "start"}'
  wait_until "$t3's issue in_progress" issue_is "$t3" in_progress "$codex_pc"
  ao "$alex" GET "/api/tasks/$t3"
  v3=$(jq -r .version "$work/ao.json")
  audit3=$(audit_count "$t3")
  expect_pc 200 PATCH "/issues/$issue" '{"status": "done"}'
  wait_until "$t3's issue back to in_progress" issue_is "$t3" in_progress
  # The reconciler's comment: "agentos refused this change (status done):", the policy's reasons
  # (from executing there is no transition to done), and the state the task keeps.
  wait_until "a comment on $t3's issue giving the reason" comment_has "$issue" "agentos refused this change (status done)"
  comment_has "$issue" "no transition" || fail "the comment on $t3's issue lacks the policy's reason: $seen"
  comment_has "$issue" "$t3 stays executing" || fail "the comment on $t3's issue lacks the state it keeps: $seen"
  ao "$alex" GET "/api/tasks/$t3"
  [ "$(jq -r .task.state "$work/ao.json")" = executing ] || fail "$t3 left executing: $(cat "$work/ao.json")"
  [ "$(jq -r .version "$work/ao.json")" = "$v3" ] || fail "$t3's version changed from $v3"
  denied_by_alex() {
    ao "$alex" GET "/api/audit?task=$t3&limit=10000"
    seen=$(jq -c '[.records[] | "\(.event // .kind):\(.actor // "-"):\(.effect)"]' "$work/ao.json")
    [ "$(jq '.records | length' "$work/ao.json")" -gt "$audit3" ] &&
      jq -e 'any(.records[]; .actor == "alex" and .effect == "deny")' "$work/ao.json" > /dev/null
  }
  wait_until "the denial of $t3's jump in the audit" denied_by_alex
  step "3. forbidden jump on $t3: reverted with the reason, backend unchanged, denial audited"
fi

# ---- 4. the backend restarted mid-flow
if want 4; then
  read -r issues_before agents_before _ _ <<< "$(counts)"
  t4=$(create_task '{"title": "Update the README", "kind": "engineering"}' claude)
  stop_serve
  step "4. agentos serve stopped with $t4 routed"
  start_serve
  wait_until "$t4 in result_review after the restart" task_is "$t4" result_review
  wait_until "$t4's issue in_review" issue_is "$t4" in_review
  expect_ao 200 "$claude_pm" POST "/api/tasks/$t4/reviews" '{"decision": "accept_result"}'
  wait_until "$t4's issue done" issue_is "$t4" done
  read -r issues_after agents_after dup_issues dup_agents <<< "$(counts)"
  [ "$dup_issues" = 0 ] || fail "a task has more than one issue after the restart"
  [ "$dup_agents" = 0 ] || fail "an agent was projected twice after the restart"
  [ "$agents_after" = "$agents_before" ] || fail "agents: $agents_before before the restart, $agents_after after"
  [ "$issues_after" = $((issues_before + 1)) ] || fail "issues: $issues_before before, $issues_after after (one task added)"
  step "4. backend restart: $t4 done, $issues_after issues and $agents_after agents, nothing twice"
fi

# ---- 5. Paperclip restarted; an operator action right after it
if want 5; then
  t5=$(create_task '{"title": "Plan the backup rotation", "kind": "engineering", "risk": "medium"}' claude_pm)
  wait_until "$t5 in plan_review" task_is "$t5" plan_review
  wait_until "$t5's issue" issue_of "$t5"
  wait_until "$t5's pending approval" pending_approval "$issue"
  "$pc" stop > /dev/null 2>&1 || fail "Paperclip did not stop"
  step "5. Paperclip stopped with $t5 in plan_review"
  start_paperclip
  # Approved at once: the reconciler's WebSocket is still reconnecting (backoff), so only its
  # catch-up read of the activity sees this.
  expect_pc 200 POST "/approvals/$approval/approve" '{"decisionNote": "approved right after the restart"}'
  wait_until "$t5 approved in the backend" audit_has "$t5" approve_plan alex allow
  wait_until "$t5 in result_review" task_is "$t5" result_review
  expect_ao 200 "$openclaw" POST "/api/tasks/$t5/reviews" '{"decision": "accept_result"}'
  wait_until "$t5's issue done" issue_is "$t5" done
  # What brought the result: Paperclip's wake, or (when that came before the reconciler caught
  # up) the server's event stream the executor follows.
  how=$(sed -n "s/^agentos executor: $t5 as claude_pm (\(.*\), run [^)]*): submitted the result.*/\1/p" "$work/executor.out" | tail -n 1)
  step "5. Paperclip restart: the approval made right after it reached the backend; $t5 done (result after: ${how:-?})"
fi

# ---- 6. no drift
if want 6; then
  # Asked of the running server first (the projection may still be writing the last events: a
  # bounded wait), then read from the stopped server's data directory, where it must hold at once.
  no_drift_live() {
    local code=0
    "$agentos" projection check --url "$serve_url" --token "$alex" > "$work/check.out" 2>&1 || code=$?
    seen="exit $code: $(tr '\n' ' ' < "$work/check.out" | head -c 1500)"
    [ "$code" = 0 ]
  }
  wait_until "no drift (projection check --url)" no_drift_live
  stop_serve
  code=0
  "$agentos" projection check --data "$work/data" --paperclip "$pc_url" > "$work/check.out" 2>&1 || code=$?
  [ "$code" = 0 ] || {
    cat "$work/check.out"
    fail "agentos projection check --data exited $code"
  }
  step "6. projection check: $(tail -n 1 "$work/check.out")"
fi

stop_pid "$EXECUTOR_PID" "agentos executor"
EXECUTOR_PID=
if want 1; then
  grep -q "^agentos executor: $t1 as claude" "$work/executor.out" || fail "the executor logged no job for $t1"
fi
echo "projection_e2e: ok ($((SECONDS - t0)) s)"
