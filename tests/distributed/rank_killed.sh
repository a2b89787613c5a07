#!/usr/bin/env bash
# A rank killed mid-training ends the job with a non-zero status within a bounded time (no
# hang), and training restarted from rank 0's last backup ends with the weights of an
# uninterrupted run; a rank whose fit fails ends the job with its error.
#   rank_killed.sh MPIEXEC FAULT_CHILD WORKDIR
set -uo pipefail
mpiexec=$1 child=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
fail() { echo "rank_killed: $*" >&2; exit 1; }
# The bound: a job whose rank died must be gone well within it.
bound=60
launch() { timeout "$bound" "$mpiexec" -np 2 "$child" "$@"; }

launch --backup "$work/full" --out "$work/full.bin" || fail "the uninterrupted run failed"

start=$SECONDS
launch --backup "$work/resumed" --out "$work/killed.bin" --kill-at 6 >"$work/killed.log" 2>&1
status=$?
elapsed=$((SECONDS - start))
cat "$work/killed.log"
[ "$status" -ne 124 ] || fail "the job with a killed rank still ran after ${bound} s"
[ "$status" -ne 0 ] || fail "the job with a killed rank exited with status 0"
grep -q "signal 9" "$work/killed.log" || fail "mpirun did not say that a rank was killed"
[ ! -e "$work/killed.bin" ] || fail "the killed job wrote final weights"
[ -f "$work/resumed/state.json" ] || fail "no backup was left to resume from"
echo "rank_killed: the job ended ${elapsed} s after the start (status ${status})"

launch --backup "$work/resumed" --out "$work/resumed.bin" || fail "the resumed run failed"
cmp "$work/full.bin" "$work/resumed.bin" || fail "the resumed run's weights differ from the uninterrupted run's"
echo "rank_killed: resumed from the backup, the weights equal the uninterrupted run's"

launch --backup "$work/failing" --out "$work/failing.bin" --fail-at 3 >"$work/failing.log" 2>&1
status=$?
cat "$work/failing.log"
[ "$status" -ne 124 ] || fail "the job with a failing rank still ran after ${bound} s"
[ "$status" -ne 0 ] || fail "the job with a failing rank exited with status 0"
grep -q "tapeflow distributed: rank 1: fit failed: injected failure at step 3" "$work/failing.log" ||
  fail "the failing rank's error was not printed"
echo "rank_killed: a failing rank ended the job with its error"
rm -rf "$work"
