#!/usr/bin/env bash
# Installs what is needed, builds, and runs the main job: `agentos serve` on loopback with the
# default policy (policies/agent-os.policy) and the embedded LMDB store in ./var, started through
# scripts/agents-stack, which first hydrates every agent's workspace (policies/hydration.json). Before serving
# it lints, formats-checks and tests the shipped policies, and on the first run creates
# ./var/tokens.json with a fresh bearer token per actor (mode 0600; delete it for new ones).
# AGENTOS_LISTEN=HOST:PORT changes the address (default 127.0.0.1:8080). Stop with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
A=./build/tools/agentos/agentos
$A check policies/ examples/
$A fmt --check policies/ examples/
$A test policies/ examples/ | tail -n 1

listen="${AGENTOS_LISTEN:-127.0.0.1:8080}"
mkdir -p var
if [ ! -e var/tokens.json ]; then
  # alex is the operator (policies/global); the others are agents of the shipped org chart.
  (
    umask 077
    {
      printf '{'
      sep=''
      for actor in alex openclaw claude claude_pm claude_qa ledger; do
        printf '%s\n  "%s": "%s"' "$sep" "$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')" "$actor"
        sep=','
      done
      printf '\n}\n'
    } > var/tokens.json
  )
  echo "run: created var/tokens.json (a bearer token per actor)"
fi
token_of() { sed -n "s/^ *\"\\([0-9a-f]*\\)\": \"$1\".*/\\1/p" var/tokens.json | head -n 1; }
operator="$(token_of alex)"
cat <<TXT

agentos serve: the operator API on http://$listen (docs/api.md), store ./var, policy policies/agent-os.policy,
agents' skills hydrated into var/workspaces/<agent>/.agents/skills (policies/hydration.json, docs/hydration.md).
Bearer tokens per actor are in var/tokens.json. As the operator (alex):

  T=$operator
  curl -s http://$listen/health
  curl -s -H "Authorization: Bearer \$T" -d '{"task":{"title":"fix the build","kind":"engineering"}}' http://$listen/api/tasks
  curl -s -H "Authorization: Bearer \$T" http://$listen/api/tasks
  curl -s -H "Authorization: Bearer \$T" -d '{"event":"assign"}' http://$listen/api/tasks/T-1/transitions
  curl -s -H "Authorization: Bearer \$T" "http://$listen/api/audit?task=T-1"

A walkthrough: examples/demo.sh. The CLI works on the same store when the server is stopped:
  $A task list --data var; $A audit verify --data var; $A --help

Ctrl-C (or SIGTERM) stops the server gracefully.
TXT
# scripts/agents-stack hydrates every agent's workspace (policies/hydration.json: var/workspaces/*)
# with the project's write-back skills, then starts the server with that configuration.
AGENTOS=$A exec ./scripts/agents-stack --policy policies/agent-os.policy --data var --listen "$listen" --tokens var/tokens.json
