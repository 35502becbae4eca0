#!/usr/bin/env bash
# Installs what is needed, builds, and runs the main job. Until `agentos serve` exists this is
# `agentos check`, `agentos fmt --check` and `agentos test` over policies/ and examples/, then the
# task store in ./var: created with the default policy on first run, checked on every run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
./build/tools/agentos/agentos check policies/ examples/
./build/tools/agentos/agentos fmt --check policies/ examples/
./build/tools/agentos/agentos test policies/ examples/ | tail -n 1
if [ ! -e var/data.mdb ]; then
  ./build/tools/agentos/agentos task create --data var --policy policies/agent-os.policy --actor openclaw \
    --set title="Try the Agent OS" --set kind=admin
fi
./build/tools/agentos/agentos store check --data var
cat <<'TXT'

agentos is built: ./build/tools/agentos/agentos
  agentos check PATH...        lint policy files and directories (--format text|json|sarif)
  agentos fmt [--check|--diff] PATH...   format policy files canonically
  agentos test PATH...         run policy test files (*.tests.json)
  agentos eval --policy FILE --request FILE [--explain]   decide one request
  agentos graph --policy FILE [--format svg]             draw the lifecycle
  agentos task create|show|list|transition|plan|result|review|cancel|escalate   the store in ./var
  agentos audit log|verify     the decision log; verify = hash chain + replay
  agentos store stat|check|backup
  agentos --help               every command
TXT
