#!/usr/bin/env bash
# Run every cmocka test executable under valgrind memcheck (a Debug build without sanitizers in
# build-valgrind). Fails on any memcheck error or definite leak; prints one line per test.
# The build is portable (-DNB_NATIVE=OFF): -march=native would use instructions valgrind cannot
# run on some CPUs (AVX-512). BLIS still picks its kernels at run time from what the CPU reports;
# on a CPU whose vector instructions valgrind does not emulate, set BLIS_ARCH_TYPE yourself.
#   scripts/valgrind.sh [PATTERN]     only tests whose executable name contains PATTERN
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind: not installed (apt-get install valgrind)"; exit 77; }
pattern=${1:-}
dir=build-valgrind
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DNB_SANITIZE=OFF -DNB_NATIVE=OFF \
  -DNB_BUILD_EXAMPLES=OFF -DNB_BUILD_BENCH=OFF >/dev/null
cmake --build "$dir" -j 2 >/dev/null
mkdir -p "$dir/vg" "$dir/tests/tmp"
export NB_TEST_TMPDIR=$PWD/$dir/tests/tmp CMOCKA_MESSAGE_OUTPUT=stdout OMP_NUM_THREADS=1
fails=0 total=0
for exe in "$dir"/tests/*_test_*; do
  name=$(basename "$exe")
  [ -n "$pattern" ] && [[ $name != *"$pattern"* ]] && continue
  total=$((total + 1))
  log=$dir/vg/$name.log
  start=$(date +%s)
  # --child-silent-after-fork: the power-cut test's children are killed mid-write on purpose
  if valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite \
       --show-leak-kinds=definite --error-exitcode=99 --child-silent-after-fork=yes \
       --trace-children=no --log-file="$log" "$exe" >"$dir/vg/$name.out" 2>&1; then
    res=ok
  else
    res="FAILED (exit $?)"
    fails=$((fails + 1))
  fi
  errs=$(grep -o 'ERROR SUMMARY: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo ?)
  def=$(grep -o 'definitely lost: [0-9,]* bytes' "$log" | tail -1 || true)
  printf '%-40s %-16s errors %s  %s  (%ss)\n' "$name" "$res" "$errs" "${def:-definitely lost: 0 bytes}" \
    "$(( $(date +%s) - start ))"
done
echo "valgrind: $total test executables, $fails failed (logs in $dir/vg)"
[ "$fails" -eq 0 ]
