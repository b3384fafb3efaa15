#!/usr/bin/env bash
# fault.sh MODE BOUND_SECONDS MPIRUN_COMMAND...: run a fault test; pass when the job fails (non-zero
# status) within BOUND_SECONDS and its output names the failed rank as MODE expects.
set -uo pipefail
mode=$1 bound=$2
shift 2
case $mode in
  error) want='rank 0 of 2: stopping: rank 1 failed: exited without nb_dist_finalize; last error: train: injected read error on rank 1' ;;
  hang) want='rank 0 of 2: gradient all-reduce \(step [0-9]+\) waited [0-9.]+ s \(the timeout\); no answer from rank 1: failed, killed or stuck' ;;
  kill) want='process rank 1 .* exited on signal 9' ;;
  *) echo "fault.sh: unknown mode $mode"; exit 2 ;;
esac
start=$(date +%s)
out=$("$@" 2>&1)
rc=$?
elapsed=$(($(date +%s) - start))
echo "$out"
echo "fault.sh: mode $mode: exit status $rc after ${elapsed} s"
fail=0
if [ "$rc" -eq 0 ]; then echo "fault.sh: the job succeeded; a failure was expected"; fail=1; fi
if ! grep -Eq "$want" <<<"$out"; then echo "fault.sh: no line matches: $want"; fail=1; fi
if [ "$elapsed" -gt "$bound" ]; then echo "fault.sh: took ${elapsed} s, bound ${bound} s"; fail=1; fi
exit $fail
