#!/usr/bin/env bash
# A walkthrough of the agentos HTTP API with curl: one engineering task from its creation to its
# acceptance, through the executor protocol, against a running `agentos serve` with the shipped
# policy (scripts/run.sh starts one). Each step says what it does, shows the request, and prints
# the fields of the answer that matter.
#
#   examples/demo.sh [BASE_URL] [TOKENS_FILE]
#
#   BASE_URL     default: $AGENTOS_URL, else http://127.0.0.1:8080 (scripts/run.sh's address)
#   TOKENS_FILE  default: $AGENTOS_TOKENS, else var/tokens.json (scripts/run.sh writes it): the
#                server's --tokens file, {"<token>": "<actor id>", ...}, one pair per line.
#                ALEX_TOKEN, CLAUDE_TOKEN and CLAUDE_PM_TOKEN, when set, are used instead.
#
# The actors (policies/agent-os.policy): alex, the operator; claude, an engineer, to whom routing
# sends engineering work; claude_pm, the PM, claude's parent in the org chart, who reviews it.
# Needs bash, curl, sed, grep and awk. Exits 1 at the first answer whose status is not the one
# the step expects (or that lacks what the next step relies on).
set -euo pipefail

url="${1:-${AGENTOS_URL:-http://127.0.0.1:8080}}"
url="${url%/}"
tokens_file="${2:-${AGENTOS_TOKENS:-var/tokens.json}}"
answer_file=$(mktemp)
trap 'rm -f "$answer_file"' EXIT

# ---- helpers

# The token of ACTOR: $<ACTOR>_TOKEN, else its line in the tokens file.
token_of() {
  local actor=$1 var
  var="$(printf '%s' "$actor" | tr '[:lower:]' '[:upper:]')_TOKEN"
  if [ -n "${!var:-}" ]; then
    printf '%s' "${!var}"
    return
  fi
  if [ ! -r "$tokens_file" ]; then
    echo "demo: no token for $actor: set $var, or give the server's tokens file (now: $tokens_file)" >&2
    exit 1
  fi
  local token
  token=$(sed -n "s/^[[:space:]{,]*\"\\([^\"]*\\)\"[[:space:]]*:[[:space:]]*\"$actor\".*/\\1/p" "$tokens_file" | head -n 1)
  if [ -z "$token" ]; then
    echo "demo: $tokens_file has no token for $actor (set $var)" >&2
    exit 1
  fi
  printf '%s' "$token"
}

# step EXPECTED ACTOR METHOD PATH [BODY]: shows the request as a curl command, sends it as ACTOR
# ("-": no token) and leaves the answer in $answer; exits unless the status is EXPECTED.
step() {
  local want=$1 actor=$2 method=$3 path=$4 body=${5-}
  local args=(-s -o "$answer_file" -w '%{http_code}' --max-time 30 -X "$method")
  local shown="curl -s"
  if [ "$method" != GET ] && [ -z "$body" ]; then shown+=" -X $method"; fi
  if [ "$actor" != - ]; then
    args+=(-H "Authorization: Bearer $(token_of "$actor")")
    shown+=" -H \"Authorization: Bearer \$$(printf '%s' "$actor" | tr '[:lower:]' '[:upper:]')_TOKEN\""
  fi
  if [ -n "$body" ]; then
    args+=(-H 'Content-Type: application/json' --data-binary "$body")
    shown+=" -d '$body'"
  fi
  echo "    \$ $shown '$url$path'"
  local status
  status=$(curl "${args[@]}" "$url$path") || {
    echo "demo: no answer from $url$path (curl exit $?): is \`agentos serve\` running there?" >&2
    exit 1
  }
  answer=$(cat "$answer_file")
  if [ "$status" != "$want" ]; then
    echo "demo: expected HTTP $want, got $status: $answer" >&2
    exit 1
  fi
  echo "    HTTP $status"
}

# The value (a string, a number, true, false or null) of the first field named KEY in $answer;
# `field KEY last` takes the last one. The server writes compact JSON with sorted keys, so each
# use below names a key whose first (or last) occurrence is the one meant. Nothing when absent.
field() {
  { printf '%s' "$answer" | grep -oE "\"$1\":(\"([^\"\\\\]|\\\\.)*\"|[-0-9.a-z]+)" || true; } |
    if [ "${2-}" = last ]; then tail -n 1; else head -n 1; fi |
    sed -e "s/^\"$1\"://" -e 's/^"//' -e 's/"$//'
}

# Exits unless VALUE is EXPECTED: the demo checks what it relies on, not only statuses.
expect() {
  if [ "$2" != "$3" ]; then
    echo "demo: expected $1 to be '$3', got '$2'" >&2
    exit 1
  fi
}

# One line per record of an audit answer ({"records": [{...}, ...]}): its own fields, not those
# of the request and the decision nested in it. JSON is split into tokens, one per line, and awk
# follows the nesting (a record is an object at depth 3).
audit_lines() {
  printf '%s' "$answer" | grep -oE '"([^"\\]|\\.)*"|[][{}:,]|[^][{}:,"]+' | awk '
    $0 == "{" || $0 == "[" { depth++; prev = $0; next }
    $0 == "}" || $0 == "]" {
      if (depth == 3 && $0 == "}") {
        printf "      #%-3s %-10s %-22s %-20s by %s\n", f["seq"], f["kind"], f["event"], f["effect"], f["actor"]
        split("", f)
      }
      depth--; prev = $0; next
    }
    depth == 3 && prev == ":" { v = $0; gsub(/^"|"$/, "", v); f[key] = v == "null" ? "-" : v }
    depth == 3 && (prev == "{" || prev == ",") { key = $0; gsub(/"/, "", key) }
    { prev = $0 }'
}

# Each reason of a 422 answer, once: `rule: message` (the decision and the details both list them).
reasons() {
  { printf '%s' "$answer" | grep -oE '"message":"([^"\\]|\\.)*","rule":("[^"]*"|null)' || true; } |
    sed -e 's/^"message":"\(.*\)","rule":"\{0,1\}\([^"]*\)"\{0,1\}$/      \2: \1/' | awk '!seen[$0]++'
}

say() { printf '\n==> %s\n' "$*"; }

# write_back TEXT: as claude, reads the brief for the markers (they carry the task's current
# version, which the write-back must match) and calls back once with TEXT between them, as the
# JSON body {"task_id", "body"}; the task then awaits review.
write_back() {
  step 200 claude GET "/api/tasks/$id/brief"
  local begin end body
  begin=$(field begin)
  end=$(field end)
  echo "    markers: $begin ... $end"
  body=$(printf '{"task_id":"%s","body":"Notes before the block are ignored.\\n%s\\n%s\\n%s\\n"}' \
    "$id" "$begin" "$1" "$end")
  step 200 claude POST /api/executions/callback "$body"
  echo "    stored artifact $(field kind) v$(field version) ($(field size) bytes); task now $(field state)"
  expect "the task's state" "$(field state)" result_review
}

# ---- the walkthrough

echo "agentos demo against $url (tokens: $tokens_file)"

say "1. Is the server up? GET /health needs no token."
step 200 - GET /health
echo "    status: $(field status)"

say "2. Create an engineering task (as alex, the operator). The policy routes it at intake."
step 201 alex POST /api/tasks \
  '{"task":{"title":"Fix the flaky login test","brief":"tests/login fails about once in 20 CI runs: find the race and fix it","kind":"engineering"}}'
id=$(field id)
[ -n "$id" ] || { echo "demo: no task id in the answer: $answer" >&2; exit 1; }
echo "    task $id, state $(field state), version $(field version)"

say "3. Where did routing send it? Read the task."
step 200 alex GET "/api/tasks/$id"
echo "    routing rule $(field rule) -> $(field target): assignee $(field assignee) (role $(field assignee_role)), mode $(field mode)"
expect "the assignee" "$(field assignee)" claude

say "4. Assign it: the assignment is what wakes the executor (the policy decides, as for every move)."
step 200 alex POST "/api/tasks/$id/assign" '{"assignee":"claude"}'
echo "    allowed: $(field allowed), $(field edge); state $(field state)"
expect "the task's state" "$(field state)" routed

say "5. The executor (claude) reads its brief: what to submit, how, and where."
step 200 claude GET "/api/tasks/$id/brief"
echo "    submit: $(field kind) (now: $(field now)); first take: $(field first)"
echo "    instructions: $(field instructions)"

say "6. The executor starts the task."
step 200 claude POST "/api/tasks/$id/transitions" '{"event":"start"}'
echo "    allowed: $(field allowed), $(field edge); state $(field state)"
expect "the task's state" "$(field state)" executing

say "7. It reads the brief again for the markers of the task's new version, and calls back once with"
echo "    its result between them."
write_back "The race was in the session fixture; it is fixed."
expect "the result's version" "$(field version)" 1

say "8. The parent (claude_pm) reviews the result and asks for a revision."
step 200 claude_pm POST "/api/tasks/$id/reviews" '{"decision":"request_revision","comment":"Add a regression test."}'
echo "    allowed: $(field allowed), $(field edge); state $(field state)"
expect "the task's state" "$(field state)" executing

say "9. The executor reads the new markers and sends a new result."
write_back "Fixed the race and added tests/login_race_test."
expect "the result's version" "$(field version)" 2

say "10. The executor tries to accept its own result: the policy denies it (422, with the reasons)."
step 422 claude POST "/api/tasks/$id/reviews" '{"decision":"accept_result"}'
echo "    $(field code): $(field message last)"
reasons

say "11. The parent accepts the result."
step 200 claude_pm POST "/api/tasks/$id/reviews" '{"decision":"accept_result","comment":"Looks good."}'
echo "    allowed: $(field allowed), $(field edge); state $(field state)"
expect "the task's state" "$(field state)" done

say "12. The audit log of the task: every decision, allowed or denied, in a hash chain."
step 200 alex GET "/api/audit?task=$id"
audit_lines

printf '\ndemo: %s went from intake to done; its artifacts: GET /api/tasks/%s/artifacts\n' "$id" "$id"
