#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test. This is the README's test command and
# what CI runs (.ci/run). Order: build, a short fuzz smoke run (clang, ASan+UBSan), then ctest,
# whose summary closes the output.
#
# Paperclip (for the `paperclip` ctest label: the projection against a real Paperclip server) comes
# from the npm registry through scripts/paperclip.sh: about 1.5 GB and a minute or two the first
# time, nothing afterwards. It installs in the background while the build runs.
# AGENTOS_NO_PAPERCLIP=1 skips it; those tests then report themselves skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
paperclip_pid=
if [ "${AGENTOS_NO_PAPERCLIP:-}" != 1 ]; then
  paperclip_log=$(mktemp)
  trap 'rm -f "$paperclip_log"' EXIT
  ./scripts/paperclip.sh install >"$paperclip_log" 2>&1 &
  paperclip_pid=$!
fi
./scripts/build.sh
./scripts/fuzz.sh "${AGENTOS_FUZZ_SECONDS:-30}"
if [ -n "$paperclip_pid" ]; then
  if ! wait "$paperclip_pid"; then
    cat "$paperclip_log" >&2
    echo "test.sh: the Paperclip install failed (AGENTOS_NO_PAPERCLIP=1 runs the rest without it)" >&2
    exit 1
  fi
  cat "$paperclip_log"
fi
ctest --test-dir build --output-on-failure --parallel "$(nproc)" --timeout 900
