#!/usr/bin/env bash
# Crash test: runs a torture writer, kills it with SIGKILL after a random 0-150 ms, and verifies
# the store. One data dir serves CRASH_TEST_RESET cycles in a row (default 25), then a fresh one
# starts, so that verification (which replays the whole audit log) stays quick. A killed process
# loses nothing the kernel has, so every acknowledged commit must survive and the store must read
# back intact.
#
# usage: crash_test.sh TORTURE_BINARY [CYCLES]
# env:   CRASH_TEST_SEED (default: random, printed), CRASH_TEST_RESET (default 25)
set -u

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 TORTURE_BINARY [CYCLES]" >&2
  exit 2
fi
torture=$(realpath "$1")
cycles=${2:-300}
seed=${CRASH_TEST_SEED:-$(( $(date +%s%N) % 1000000007 ))}
RANDOM=$seed
[[ -x $torture ]] || { echo "crash: $torture is not executable" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/crash.XXXXXX")
keep_work=0
writer=
cleanup() {
  [[ -n $writer ]] && kill -9 "$writer" 2>/dev/null
  [[ $keep_work == 1 ]] || rm -rf "$work"
}
trap cleanup EXIT
echo "crash: seed $seed, work dir $work"

dir=$work/store
acks=$work/acks
start=$SECONDS
failures=0 early_exits=0 acked_before=0
reset=${CRASH_TEST_RESET:-25}
for (( i = 1; i <= cycles; i++ )); do
  if (( i > 1 && (i - 1) % reset == 0 )); then
    [[ -f $acks ]] && acked_before=$(( acked_before + $(wc -l <"$acks") ))
    rm -rf "$dir" "$acks"
  fi
  printf -v delay '0.%03d' $(( RANDOM % 151 ))
  "$torture" write "$dir" --acks "$acks" >"$work/writer.out" 2>&1 &
  writer=$!
  sleep "$delay"
  kill -9 "$writer" 2>/dev/null
  { wait "$writer"; } 2>/dev/null # (braces: no "Killed" notice)
  status=$?
  writer=
  if [[ $status -ne 137 ]]; then
    early_exits=$(( early_exits + 1 ))
    echo "crash: cycle $i: the writer exited by itself with $status:"
    sed 's/^/  writer: /' "$work/writer.out" | tail -5
  fi
  { timeout 60 "$torture" verify "$dir" --acks "$acks" >"$work/verify.out" 2>&1; } 2>/dev/null
  status=$?
  if [[ $status -ne 0 ]]; then
    failures=$(( failures + 1 ))
    where="store not kept"
    if (( failures <= 3 )); then # the first few, for a post-mortem
      keep_work=1
      where="store kept in $work/failed-$i"
      cp -a "$dir" "$work/failed-$i"; cp "$acks" "$work/failed-$i.acks" 2>/dev/null
    fi
    echo "crash: cycle $i (killed after ${delay}s): verify exit $status; $where"
    sed 's/^/  verify: /' "$work/verify.out" | head -25
    rm -rf "$dir" "$acks"
  fi
done
acked=$acked_before
[[ -f $acks ]] && acked=$(( acked + $(wc -l <"$acks") ))

echo "crash: $cycles cycles, $failures with loss or corruption, $early_exits writer errors" \
  "($acked commits acked; $(( SECONDS - start ))s)"
if (( acked == 0 )); then
  echo "crash: FAIL: no commit was ever acknowledged: the test exercised nothing"
  exit 1
fi
(( failures + early_exits == 0 ))
