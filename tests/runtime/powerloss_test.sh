#!/usr/bin/env bash
# Power-loss test: runs a torture writer under the powerloss shim until the shim simulates a power
# loss (at a random sync or write), then verifies the store without the shim. One data dir serves
# all cycles, so the store must survive repeated crashes. Every acknowledged commit must survive
# and the store must read back intact.
# Then the self-check: the same harness on --nosync with crashes at writes must detect a loss in
# at least one cycle, or the harness is blind.
#
# usage: powerloss_test.sh TORTURE_BINARY SHIM [CYCLES]
# env:   POWERLOSS_TEST_SEED (default: random, printed), POWERLOSS_SELFCHECK_CYCLES (default 20),
#        POWERLOSS_TMPDIR (default /dev/shm when writable, else $TMPDIR or /tmp). The shim, not
#        the disk, decides what survives, so a tmpfs loses nothing and spares real fsyncs.
set -u

if [[ $# -lt 2 || $# -gt 3 ]]; then
  echo "usage: $0 TORTURE_BINARY SHIM [CYCLES]" >&2
  exit 2
fi
torture=$(realpath "$1")
shim=$(realpath "$2")
cycles=${3:-300}
selfcheck_cycles=${POWERLOSS_SELFCHECK_CYCLES:-20}
seed=${POWERLOSS_TEST_SEED:-$(( $(date +%s%N) % 1000000007 ))}
RANDOM=$seed
for f in "$torture" "$shim"; do
  [[ -e $f ]] || { echo "powerloss: $f does not exist" >&2; exit 2; }
done

tmp_root=${POWERLOSS_TMPDIR:-}
if [[ -z $tmp_root ]]; then
  tmp_root=${TMPDIR:-/tmp}
  [[ -d /dev/shm && -w /dev/shm ]] && tmp_root=/dev/shm
fi
work=$(mktemp -d "$tmp_root/powerloss.XXXXXX") || exit 2
keep_work=0
trap '[[ $keep_work == 1 ]] || rm -rf "$work"' EXIT
echo "powerloss: seed $seed, work dir $work"

# run_cycle MODE -> sets $outcome to ok|loss|corrupt|error; MODE is durable or nosync.
# Durable cycles crash at a random sync (2 in 3) or a random write (1 in 3); nosync cycles never
# sync, so they crash at a random write.
dropped_total=0
torn_total=0
run_cycle() {
  local mode=$1 at writes extra=() shim_seed=$(( RANDOM * 32768 + RANDOM ))
  if [[ $mode == nosync ]]; then
    extra=(--nosync); writes=1; at=$(( 20 + RANDOM % 200 ))
  elif (( RANDOM % 3 == 0 )); then
    writes=1; at=$(( 1 + RANDOM % 120 ))
  else
    writes=0; at=$(( 1 + RANDOM % 40 ))
  fi
  cycle_desc="mode=$mode POWERLOSS_AT=$at POWERLOSS_WRITES=$writes POWERLOSS_SEED=$shim_seed"
  # (The braces keep bash's "Killed" notices out of the log.)
  { timeout 30 env LD_PRELOAD="$shim" POWERLOSS_AT=$at POWERLOSS_WRITES=$writes \
      POWERLOSS_SEED=$shim_seed POWERLOSS_VERBOSE=1 "$torture" write "$dir" --acks "$acks" \
      "${extra[@]}" >"$work/writer.out" 2>&1; } 2>/dev/null
  local status=$?
  if [[ $status -ne 137 ]] || ! grep -q 'powerloss_shim: power loss' "$work/writer.out"; then
    echo "powerloss: writer did not die of the simulated power loss (exit $status; $cycle_desc):"
    cat "$work/writer.out"
    outcome=error
    return
  fi
  local line
  line=$(grep -o '[0-9]* dropped, [0-9]* torn' "$work/writer.out" | head -1)
  dropped_total=$(( dropped_total + ${line%% dropped*} ))
  line=${line#*dropped, }
  torn_total=$(( torn_total + ${line%% torn} ))

  { timeout 60 "$torture" verify "$dir" --acks "$acks" >"$work/verify.out" 2>&1; } 2>/dev/null
  status=$?
  if [[ $status -eq 0 ]]; then
    outcome=ok
  elif [[ $status -eq 1 ]] && grep -q '^corrupt' "$work/verify.out"; then
    outcome=corrupt
  elif [[ $status -eq 1 ]]; then
    outcome=loss
  elif [[ $status -ge 124 ]]; then
    echo "verify died or hung (exit $status)" >>"$work/verify.out"
    outcome=corrupt
  else
    outcome=error
  fi
}

fresh_store() {
  rm -rf "$dir" "$acks"
}

saved_stores=0
report_failure() { # CYCLE
  local where="store not kept"
  if [[ $outcome != error ]] && (( saved_stores < 3 )); then # the first few, for a post-mortem
    keep_work=1
    saved_stores=$(( saved_stores + 1 ))
    where="store kept in $work/failed-$1"
    cp -a "$dir" "$work/failed-$1" 2>/dev/null; cp "$acks" "$work/failed-$1.acks" 2>/dev/null
  fi
  echo "powerloss: cycle $1: $outcome ($cycle_desc); $where"
  sed 's/^/  writer: /' "$work/writer.out" | tail -5
  sed 's/^/  verify: /' "$work/verify.out" | head -25
}

# Preflight: the shim must load and kill the writer at its third sync (without it, --count ends
# the writer at once).
{ timeout 30 env LD_PRELOAD="$shim" POWERLOSS_AT=3 POWERLOSS_VERBOSE=1 "$torture" write \
    "$work/preflight" --acks "$work/preflight.acks" --count 20 >"$work/writer.out" 2>&1; } 2>/dev/null
if [[ $? -ne 137 ]] || ! grep -q 'powerloss_shim: power loss' "$work/writer.out"; then
  echo "powerloss: FAIL: the shim did not simulate a power loss (is $shim an LD_PRELOAD library?):"
  sed 's/^/  writer: /' "$work/writer.out" | tail -5
  exit 2
fi

start=$SECONDS
dir=$work/store
acks=$work/acks
corrupt=0 losses=0 errors=0
for (( i = 1; i <= cycles; i++ )); do
  run_cycle durable
  case $outcome in
    ok) ;;
    loss) losses=$(( losses + 1 )); report_failure "$i"; fresh_store ;;
    corrupt) corrupt=$(( corrupt + 1 )); report_failure "$i"; fresh_store ;;
    error) errors=$(( errors + 1 )); report_failure "$i"; fresh_store ;;
  esac
  if (( errors >= 5 )); then
    echo "powerloss: giving up after $errors cycles that did not run"
    break
  fi
done
acked=0
[[ -f $acks ]] && acked=$(wc -l <"$acks")
durable_time=$(( SECONDS - start ))

# The self-check: without syncs, losses must show. A detected loss breaks the store: start afresh.
start=$SECONDS
dir=$work/selfcheck
acks=$work/selfcheck.acks
detected=0 detected_loss=0 detected_corrupt=0 selfcheck_errors=0
for (( i = 1; i <= selfcheck_cycles; i++ )); do
  run_cycle nosync
  case $outcome in
    ok) ;;
    loss) detected=$(( detected + 1 )); detected_loss=$(( detected_loss + 1 )); fresh_store ;;
    corrupt) detected=$(( detected + 1 )); detected_corrupt=$(( detected_corrupt + 1 )); fresh_store ;;
    error) selfcheck_errors=$(( selfcheck_errors + 1 )); fresh_store ;;
  esac
  (( selfcheck_errors >= 5 )) && break
done
selfcheck_time=$(( SECONDS - start ))

echo "powerloss: $cycles cycles, $corrupt corrupt, $losses acknowledged losses, $errors errors" \
  "($acked commits acked since the last reset, $dropped_total unsynced writes dropped," \
  "$torn_total torn; ${durable_time}s); self-check (nosync): $detected/$selfcheck_cycles cycles" \
  "detected loss ($detected_loss acked commits lost, $detected_corrupt corrupt; ${selfcheck_time}s)"
status=0
if (( corrupt + losses + errors > 0 )); then
  status=1
fi
if (( acked == 0 )); then
  echo "powerloss: FAIL: no commit was ever acknowledged: the test exercised nothing"
  status=1
fi
if (( selfcheck_errors > 0 )); then
  echo "powerloss: FAIL: $selfcheck_errors self-check cycles did not run as expected"
  status=1
fi
if (( detected == 0 )); then
  echo "powerloss: FAIL: the harness cannot detect losses (self-check found none in $selfcheck_cycles cycles)"
  status=1
fi
exit $status
