#!/usr/bin/env bash
# Run the whole test suite (ctest of a build directory) N times while two busy processes load
# the CPU, to show that no test depends on timing. The load is started and always stopped by
# this script. Prints a pass/fail line per run and "N passed, N failed" at the end; exits
# non-zero if any run failed.
#   scripts/loaded_suite.sh [BUILD_DIR] [N]    defaults: build-release (scripts/test.sh's
#                                               Release build) and 5
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-release}
runs=${2:-5}
if [ ! -f "$dir/CTestTestfile.cmake" ]; then
  echo "loaded_suite: $dir is not a configured build (cmake -S . -B $dir && cmake --build $dir)"
  exit 2
fi
jobs=$(nproc 2>/dev/null || echo 2)

busy=()
stop_load() {
  for pid in "${busy[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${busy[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  busy=()
}
trap stop_load EXIT
trap 'exit 130' INT TERM
for _ in 1 2; do
  bash -c 'while :; do :; done' &
  busy+=("$!")
done
echo "loaded_suite: ${#busy[@]} busy processes (pids ${busy[*]}), $runs runs of ctest in $dir"

logs=$dir/loaded-suite
mkdir -p "$logs"
passed=0 failed=0
for i in $(seq 1 "$runs"); do
  log=$logs/run-$i.log
  start=$(date +%s)
  if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --test-dir "$dir" --output-on-failure -j "$jobs" >"$log" 2>&1; then
    passed=$((passed + 1))
    res=passed
  else
    failed=$((failed + 1))
    res="FAILED: $(grep -E '\((Failed|Timeout|SEGFAULT|Subprocess aborted|Child aborted)' "$log" \
      | sed 's/.*- //' | tr '\n' ' ')"
  fi
  echo "run $i: $res ($(grep -o '[0-9]* tests failed out of [0-9]*' "$log" || echo '?'),"\
       "$(( $(date +%s) - start ))s, log $log)"
done
stop_load
echo "loaded_suite: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
