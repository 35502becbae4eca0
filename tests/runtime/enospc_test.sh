#!/usr/bin/env bash
# ENOSPC test: the store on a 2 MiB tmpfs. Once a filler file takes the free space, the writer
# must stop with a clear error (exit 1, a message about space), the store must verify, and after
# the filler is deleted the writer must commit again. Exit 77 (skip) when tmpfs cannot be mounted.
#
# usage: enospc_test.sh TORTURE_BINARY
set -u

if [[ $# -ne 1 ]]; then
  echo "usage: $0 TORTURE_BINARY" >&2
  exit 2
fi
torture=$(realpath "$1")
[[ -x $torture ]] || { echo "enospc: $torture is not executable" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/enospc.XXXXXX")
mnt=$work/mnt
mkdir "$mnt"
mounted=0
cleanup() {
  [[ $mounted == 1 ]] && umount "$mnt"
  rm -rf "$work"
}
trap cleanup EXIT

if ! mount -t tmpfs -o size=2m tmpfs "$mnt" 2>"$work/mount.err"; then
  echo "enospc: SKIP: cannot mount a tmpfs ($(tr '\n' ' ' <"$work/mount.err"))"
  exit 77
fi
mounted=1

dir=$mnt/store
acks=$work/acks # outside the tmpfs: the acks must not run out of space themselves
fail() {
  echo "enospc: FAIL: $*"
  exit 1
}
acked() { wc -l <"$acks"; }
start=$SECONDS

# The store exists before the disk fills (LMDB's lock file is allocated then, too).
timeout 60 "$torture" write "$dir" --acks "$acks" --count 5 >"$work/out" 2>&1 ||
  fail "the first writer failed: $(cat "$work/out")"

# Take all the free space, then give back a little so the writer commits a few times first.
dd if=/dev/zero of="$mnt/filler" bs=64k status=none 2>/dev/null
truncate -s -192K "$mnt/filler" || fail "cannot shrink the filler"
before=$(acked)
timeout 60 "$torture" write "$dir" --acks "$acks" >"$work/out" 2>&1
status=$?
message=$(tail -1 "$work/out")
[[ $status -eq 1 ]] || fail "the writer on a full disk exited with $status, not 1: $message"
grep -qiE 'space|ENOSPC' "$work/out" || fail "the writer's error does not name the cause: $message"
full_commits=$(( $(acked) - before ))
echo "enospc: the writer stopped after $full_commits more commits: $message"

timeout 60 "$torture" verify "$dir" --acks "$acks" >"$work/out" 2>&1 ||
  fail "verify after ENOSPC: $(cat "$work/out")"

rm "$mnt/filler"
before=$(acked)
timeout 60 "$torture" write "$dir" --acks "$acks" --count 5 >"$work/out" 2>&1 ||
  fail "the writer did not recover once space was freed: $(cat "$work/out")"
(( $(acked) == before + 5 )) || fail "expected 5 more acks after freeing space, got $(( $(acked) - before ))"
timeout 60 "$torture" verify "$dir" --acks "$acks" >"$work/out" 2>&1 ||
  fail "verify after recovery: $(cat "$work/out")"

echo "enospc: ok: ENOSPC reported cleanly, store intact, writes resume after freeing space" \
  "($(acked) commits acked; $(( SECONDS - start ))s)"
