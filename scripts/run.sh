#!/usr/bin/env bash
# Installs what is needed, builds, and runs the main job. Until `agentos serve` exists this is
# `agentos check` and `agentos fmt --check` over policies/ and examples/.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
./build/tools/agentos/agentos check policies/ examples/
./build/tools/agentos/agentos fmt --check policies/ examples/
./build/tools/agentos/agentos test policies/ examples/ | tail -n 1
cat <<'TXT'

agentos is built: ./build/tools/agentos/agentos
  agentos check PATH...        lint policy files and directories (--format text|json|sarif)
  agentos fmt [--check|--diff] PATH...   format policy files canonically
  agentos test PATH...         run policy test files (*.tests.json)
  agentos eval --policy FILE --request FILE [--explain]   decide one request
  agentos graph --policy FILE [--format svg]             draw the lifecycle
  agentos --help               every command
TXT
