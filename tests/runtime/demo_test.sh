#!/usr/bin/env bash
# examples/demo.sh end to end: starts the real `agentos serve` on an ephemeral loopback port over a
# fresh data directory, with a tokens file in the format scripts/run.sh writes, and runs the
# walkthrough against it. Then: the walkthrough stops with a non-zero exit at the first
# unexpected status (here a wrong operator token), the server stops with exit 0 on SIGTERM, and
# `agentos audit verify` accepts the audit log the walkthrough wrote.
#
# Usage: demo_test.sh AGENTOS SOURCE_DIR. Exits 77 (skipped) without curl.
set -euo pipefail
agentos=$1
src=$2
. "$(dirname "$0")/serve_lib.sh"
require_tools demo_test curl

tmp=$(mktemp -d)
trap 'kill_server; rm -rf "$tmp"' EXIT
fail() {
  echo "demo_test: FAIL: $*"
  exit 1
}

# As scripts/run.sh writes var/tokens.json: one "token": "actor" pair per line.
cat > "$tmp/tokens.json" << 'JSON'
{
  "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071": "alex",
  "1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f607182": "openclaw",
  "2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293": "claude",
  "3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4": "claude_pm",
  "4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5": "claude_qa",
  "5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6": "ledger"
}
JSON
start_server "$agentos" "$src/policies/agent-os.policy" "$tmp" "$tmp/tokens.json"

# The walkthrough, from another directory: it must not depend on being run from the repository.
if ! (cd "$tmp" && bash "$src/examples/demo.sh" "$SERVER_URL" "$tmp/tokens.json") > "$tmp/demo.out" 2>&1; then
  cat "$tmp/demo.out"
  fail "examples/demo.sh failed"
fi
cat "$tmp/demo.out"
for expected in '==> 12\.' 'went from intake to done' 'no_self_approval: ' 'transition.denied' \
  'markers: <<<AGENTOS:RESULT task=T-1 version=3>>>' '#[0-9]+ +transition +accept_result +allow +by claude_pm' '#[0-9]+ +intake +- +route +by alex'; do
  grep -Eq -- "$expected" "$tmp/demo.out" || fail "the walkthrough's output lacks /$expected/"
done

# The first unexpected status ends it, non-zero: a wrong operator token fails step 2 with a 401.
if ALEX_TOKEN=not-a-token bash "$src/examples/demo.sh" "$SERVER_URL" "$tmp/tokens.json" > "$tmp/wrong.out" 2>&1; then
  cat "$tmp/wrong.out"
  fail "examples/demo.sh succeeded with a wrong token"
fi
grep -q 'expected HTTP 201, got 401' "$tmp/wrong.out" || { cat "$tmp/wrong.out"; fail "no 401 reported"; }
if grep -q '==> 3\.' "$tmp/wrong.out"; then fail "examples/demo.sh went on after the unexpected status"; fi
# And a server that is not there is reported as such.
if bash "$src/examples/demo.sh" "http://127.0.0.1:9" "$tmp/tokens.json" > "$tmp/absent.out" 2>&1; then
  fail "examples/demo.sh succeeded without a server"
fi
grep -q 'no answer from' "$tmp/absent.out" || { cat "$tmp/absent.out"; fail "no 'no answer' message"; }

stop_server || fail "the server did not stop cleanly on SIGTERM"
"$agentos" audit verify --data "$tmp/data" > "$tmp/verify.out" 2>&1 || {
  cat "$tmp/verify.out"
  fail "agentos audit verify rejected the walkthrough's audit log"
}
echo "demo_test: ok"
