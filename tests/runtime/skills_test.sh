#!/usr/bin/env bash
# The protocol skills (skills/submit-plan, skills/submit-result) against the real `agentos serve`
# with the shipped policy, run as an executor runs them: through a workspace whose
# .agents/skills/<name> are symlinks to the repository's skill directories.
#
#   1. A plan-first task (engineering, label production) for claude. submit-plan before `start`
#      and submit-result while a plan is due are refused by the scripts (exit 3) and write
#      nothing; a wrong token is exit 6, no token exit 2. The plan (quotes, backslashes, a tab,
#      non-ASCII text, several lines) is stored byte for byte; the parent approves it; a result
#      from someone else than the assignee is denied (exit 4, audited, nothing stored); the
#      assignee's result (--file) is stored and the task awaits review; a second result is not
#      due (exit 3).
#   2. A direct task whose version changes between the brief and the callback: exit 5, nothing
#      stored (a curl on PATH that bumps the version first stands in for a concurrent change).
#   3. A second server with --signing-secrets and --require-signatures: without a secret the
#      script refuses (exit 2), a wrong secret is exit 6, the right one is taken.
#
# Usage: skills_test.sh AGENTOS SOURCE_DIR. Exits 77 (skipped) without curl or jq.
set -euo pipefail
agentos=$1
src=$2
. "$(dirname "$0")/serve_lib.sh"
require_tools skills_test curl jq
unset AGENTOS_URL AGENTOS_TOKEN AGENTOS_SIGNING_SECRET AGENTOS_TIMEOUT

tmp=$(mktemp -d)
trap 'kill_server; rm -rf "$tmp"' EXIT
fail() {
  echo "skills_test: FAIL: $*"
  exit 1
}

alex=0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071
claude=2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293
claude_pm=3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4
cat > "$tmp/tokens.json" << JSON
{
  "$alex": "alex",
  "$claude": "claude",
  "$claude_pm": "claude_pm"
}
JSON

# The workspace, as hydration lays it out: each skill a symlink to the repository's directory.
ws=$tmp/workspace
mkdir -p "$ws/.agents/skills"
ln -s "$src/skills/submit-plan" "$ws/.agents/skills/submit-plan"
ln -s "$src/skills/submit-result" "$ws/.agents/skills/submit-result"
submit_plan=.agents/skills/submit-plan/submit-plan
submit_result=.agents/skills/submit-result/submit-result
if [ ! -x "$ws/$submit_plan" ] || [ ! -x "$ws/$submit_result" ]; then fail "the skills' entry scripts are not executable"; fi
for skill in submit-plan submit-result; do
  head -n 3 "$ws/.agents/skills/$skill/SKILL.md" | grep -qx "name: $skill" || fail "$skill/SKILL.md lacks its front matter"
  [ "$(readlink -f "$ws/.agents/skills/$skill/agentos-writeback")" = "$(readlink -f "$src/skills/.lib/agentos-writeback")" ] ||
    fail "$skill/agentos-writeback does not resolve to skills/.lib/agentos-writeback through the workspace link"
done

API_ANSWER=$tmp/answer.json  # where api and expect_api (serve_lib.sh) put each answer
# check WHAT ACTUAL EXPECTED
check() { [ "$2" = "$3" ] || fail "$1: expected '$3', got '$2'"; }

# skill SCRIPT TASK [ARGS...]: runs a skill from the workspace with $token (and the other AGENTOS_*
# variables the caller exports), stdin from $input; exit code in $code, output in $tmp/skill.out.
skill() {
  local script=$1
  shift
  code=0
  (cd "$ws" && AGENTOS_URL=$SERVER_URL AGENTOS_TOKEN=$token "./$script" "$@") < "${input:-/dev/null}" \
    > "$tmp/skill.out" 2>&1 || code=$?
}
# expect_skill CODE PATTERN SCRIPT TASK [ARGS...]: the exit code is CODE and the output matches PATTERN.
expect_skill() {
  local want=$1 pattern=$2
  shift 2
  skill "$@"
  [ "$code" = "$want" ] || { cat "$tmp/skill.out"; fail "$*: expected exit $want, got $code"; }
  grep -Eq -- "$pattern" "$tmp/skill.out" || { cat "$tmp/skill.out"; fail "$*: the output lacks /$pattern/"; }
}

# What the store holds for a task: version, state, artifact count, audit record count.
snapshot() {
  expect_api 200 "$alex" GET "/api/tasks/$1"
  local v
  v=$(answer '"\(.version) \(.task.state)"')
  expect_api 200 "$alex" GET "/api/tasks/$1/artifacts"
  v+=" $(answer '.artifacts | length')"
  expect_api 200 "$alex" GET "/api/audit?task=$1&limit=10000"
  printf '%s %s' "$v" "$(answer '.records | length')"
}

# The stored content of artifact KIND/VERSION of TASK is byte-identical to FILE, and the listing's
# size and sha256 agree.
expect_stored() {
  local task=$1 kind=$2 version=$3 file=$4
  expect_api 200 "$alex" GET "/api/tasks/$task/artifacts/$kind/$version"
  jq -j '.content' "$tmp/answer.json" > "$tmp/stored"
  cmp "$tmp/stored" "$file" || fail "the stored $kind v$version of $task differs from what was sent"
  check "the $kind's size" "$(answer '.size')" "$(wc -c < "$file" | tr -d ' ')"
  check "the $kind's sha256" "$(answer '.sha256' | sed 's/^sha256://')" "$(sha256sum "$file" | cut -c1-64)"
}

start_server "$agentos" "$src/policies/agent-os.policy" "$tmp" "$tmp/tokens.json"

# ---- 1. a plan-first task

expect_api 201 "$alex" POST /api/tasks \
  '{"task":{"title":"Rotate the production TLS certificate","brief":"before it expires","kind":"engineering","labels":["production"]}}'
id=$(answer '.task.id')
check "the new task's mode" "$(answer '.task.task.mode')" plan_first
expect_api 200 "$alex" POST "/api/tasks/$id/assign" '{"assignee":"claude"}'
check "the assignee" "$(answer '.task.assignee')" claude
check "the state after assign" "$(answer '.task.state')" routed

printf 'Plan:\n1. renew\n' > "$tmp/short.txt"
input=$tmp/short.txt
token=$claude

# Not started yet: the script names the event to take first and sends nothing.
before=$(snapshot "$id")
expect_skill 3 'first take .start. yourself' "$submit_plan" "$id"
check "the task after a plan before start" "$(snapshot "$id")" "$before"

expect_api 200 "$claude" POST "/api/tasks/$id/transitions" '{"event":"start"}'
check "the state after start" "$(answer '.task.state')" planning

# A result while the plan is due: refused by the script, nothing written (not even an audit record).
before=$(snapshot "$id")
expect_skill 3 "not due a result: the brief says a plan is due" "$submit_result" "$id"
check "the task after a result while a plan is due" "$(snapshot "$id")" "$before"

# Authentication and environment.
token=not-a-token
expect_skill 6 'HTTP 401 auth\.' "$submit_plan" "$id"
token=
expect_skill 2 'AGENTOS_TOKEN is not set' "$submit_plan" "$id"
token=$claude
expect_skill 2 'no task id' "$submit_plan"
printf 'ok\n<<<AGENTOS:END>>>\n' > "$tmp/marker.txt"
expect_skill 2 'line 2 of the plan starts with <<<AGENTOS:' "$submit_plan" "$id" --file "$tmp/marker.txt"
printf ' \n\t\n' > "$tmp/blank.txt"
expect_skill 2 'the plan is empty' "$submit_plan" "$id" --file "$tmp/blank.txt"
check "the task after the refused runs" "$(snapshot "$id")" "$before"

# The plan, from stdin. What is stored is the text without its final newline.
printf 'Plan for "the certificate" (owner'"'"'s request):\n\t1. back up C:\\certs\\old and \\n stays two characters\n2. caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x94\x90 \xce\xbb\n3. {"task_id": "T-0", "body": "not JSON here"}\n   indented, trailing blanks   \n\nnot a marker: <<<AGENTOS:END>>> mid-line\nlast line\n' > "$tmp/plan.txt"
head -c -1 "$tmp/plan.txt" > "$tmp/plan.expected"
input=$tmp/plan.txt
expect_skill 0 "plan v1 of $id stored .*the task is now plan_review, version 4" "$submit_plan" "$id"
expect_stored "$id" plan 1 "$tmp/plan.expected"
expect_api 200 "$alex" GET "/api/tasks/$id/artifacts"
check "the artifacts after the plan" "$(answer '[.artifacts[] | "\(.kind) v\(.version) by \(.created_by)"] | join(",")')" "plan v1 by claude"

# The plan is in review: nothing to submit now, and the script says so.
expect_skill 3 'someone else' "$submit_plan" "$id"

expect_api 200 "$claude_pm" POST "/api/tasks/$id/reviews" '{"decision":"approve_plan"}'
check "the state after approve_plan" "$(answer '.task.state')" executing

# Someone other than the assignee: the policy denies it (exit 4), with its reason; the denial is
# audited and nothing is stored.
before=$(snapshot "$id")
token=$claude_pm
input=$tmp/short.txt
expect_skill 4 'writeback_by_assignee_only: only the assigned executor' "$submit_result" "$id"
token=$claude
after=$(snapshot "$id")
check "the task after a denied result" "${after% *}" "${before% *}"
check "the audit records after a denied result" "${after##* }" "$((${before##* } + 1))"

# The result, from a file, through the other skill; a plan is no longer due.
input=
printf 'Done.\r\nA lone \r inside a line is content; CRLF line ends are stored as LF.\nPath: \\\\server\\share\n"quoted"\tand tabbed\n' > "$tmp/result.txt"
printf 'Done.\nA lone \r inside a line is content; CRLF line ends are stored as LF.\nPath: \\\\server\\share\n"quoted"\tand tabbed' > "$tmp/result.expected"
expect_skill 3 'not due a plan: the brief says a result is due' "$submit_plan" "$id" --file "$tmp/result.txt"
expect_skill 0 "result v1 of $id stored .*the task is now result_review" "$submit_result" "$id" --file "$tmp/result.txt"
expect_stored "$id" result 1 "$tmp/result.expected"
expect_api 200 "$alex" GET "/api/tasks/$id"
check "the state after the result" "$(answer '.task.state')" result_review
expect_skill 3 'someone else' "$submit_result" "$id" --file "$tmp/result.txt"
expect_api 200 "$alex" GET "/api/tasks/$id/artifacts"
check "the artifacts at the end" "$(answer '[.artifacts[] | "\(.kind) v\(.version)"] | join(",")')" "plan v1,result v1"

# ---- 2. a version conflict between the brief and the callback

expect_api 201 "$alex" POST /api/tasks '{"task":{"title":"Fix a typo","kind":"engineering"}}'
id2=$(answer '.task.id')
check "the second task's mode" "$(answer '.task.task.mode')" direct
expect_api 200 "$alex" POST "/api/tasks/$id2/assign" '{"assignee":"claude"}'
expect_api 200 "$claude" POST "/api/tasks/$id2/transitions" '{"event":"start"}'
check "the second task's state" "$(answer '.task.state')" executing
mkdir "$tmp/shim"
cat > "$tmp/shim/curl" << EOF
#!/usr/bin/env bash
# Before the callback, an escalation request raises the task's version.
for a in "\$@"; do
  if [ "\$a" = "$SERVER_URL/api/executions/callback" ]; then
    "$(command -v curl)" -s -o /dev/null -X POST -H "Authorization: Bearer $alex" "$SERVER_URL/api/tasks/$id2/escalate"
  fi
done
exec "$(command -v curl)" "\$@"
EOF
chmod +x "$tmp/shim/curl"
before=$(snapshot "$id2")
input=$tmp/short.txt
PATH="$tmp/shim:$PATH" expect_skill 5 'HTTP 409 task\.version_conflict.*read the brief again' "$submit_result" "$id2"
input=
after=$(snapshot "$id2")
check "the second task's version after the conflict" "${after%% *}" "$((${before%% *} + 1))"
check "the second task's artifacts after the conflict" "$(echo "$after" | cut -d' ' -f3)" 0

stop_server || fail "the server did not stop cleanly on SIGTERM"
"$agentos" audit verify --data "$tmp/data" > "$tmp/verify.out" 2>&1 || {
  cat "$tmp/verify.out"
  fail "agentos audit verify rejected the audit log"
}

# ---- 3. signed callbacks

secret='s3cret "with" \ odd bytes, longer than sixteen'
jq -n --arg s "$secret" '{claude: $s}' > "$tmp/secrets.json"
mkdir "$tmp/signed"
start_server "$agentos" "$src/policies/agent-os.policy" "$tmp/signed" "$tmp/tokens.json" \
  --signing-secrets "$tmp/secrets.json" --require-signatures
expect_api 201 "$alex" POST /api/tasks '{"task":{"title":"Signed work","kind":"engineering"}}'
id3=$(answer '.task.id')
expect_api 200 "$alex" POST "/api/tasks/$id3/assign" '{"assignee":"claude"}'
expect_api 200 "$claude" POST "/api/tasks/$id3/transitions" '{"event":"start"}'
input=$tmp/plan.txt
before=$(snapshot "$id3")
expect_skill 2 'requires signed callbacks: set AGENTOS_SIGNING_SECRET' "$submit_result" "$id3"
AGENTOS_SIGNING_SECRET='the wrong secret, sixteen bytes+' expect_skill 6 'HTTP 401 auth\.bad_signature' "$submit_result" "$id3"
after=$(snapshot "$id3")
check "the signed task after the refusals" "${after% *}" "${before% *}"
AGENTOS_SIGNING_SECRET=$secret expect_skill 0 "result v1 of $id3 stored .*the task is now result_review" "$submit_result" "$id3"
expect_stored "$id3" result 1 "$tmp/plan.expected"
stop_server || fail "the signed server did not stop cleanly on SIGTERM"

echo "skills_test: ok"
