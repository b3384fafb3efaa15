#!/usr/bin/env bash
# Run the libFuzzer targets (tests/fuzz) with ASan + UBSan.
#   scripts/fuzz.sh [TARGET|all] [SECONDS]
#     TARGET: idx | cifar | checkpoint | npy | ops | all (default all); SECONDS per target
#     (default 600).
# Builds build-fuzz with clang (-DNB_FUZZ=ON), writes seed corpora, keeps the growing corpus in
# build-fuzz/corpus/TARGET and any crashing input in build-fuzz/crashes/TARGET. Exits non-zero
# if a target finds a crash, a leak or a sanitizer error. Without clang and libFuzzer (Debian:
# clang libclang-rt-dev, which scripts/setup.sh installs) it says so and exits 77.
# tests/fuzz/known-crashes/TARGET holds reproducers of crashes not fixed yet;
# tests/fuzz/regressions/TARGET those of fixed ones, replayed at the start of every run. Replay
# one with  build-fuzz/tests/fuzz/fuzz_TARGET FILE   (FUZZ_OPS_TRACE=1 prints each call of fuzz_ops)
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-all}
seconds=${2:-600}
cc=""
for c in clang clang-14; do
  command -v "$c" >/dev/null 2>&1 && { cc=$c; break; }
done
if [ -z "$cc" ]; then
  echo "fuzz: clang not found (apt-get install clang libclang-rt-dev): skipping"
  exit 77
fi
# libFuzzer's runtime comes with clang's compiler-rt (Debian: libclang-rt-dev)
probe=$(mktemp -d)
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return d && n; }' \
  >"$probe/p.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" >/dev/null 2>&1; then
  rm -rf "$probe"
  echo "fuzz: $cc cannot link libFuzzer (apt-get install libclang-rt-dev): skipping"
  exit 77
fi
rm -rf "$probe"
dir=build-fuzz
cc=$(command -v "$cc")
# A build configured with another compiler would be reconfigured by CMake with its options lost
if [ -f "$dir/CMakeCache.txt" ] && ! grep -qx "CMAKE_C_COMPILER:[A-Z]*=$cc" "$dir/CMakeCache.txt"; then
  rm -rf "$dir/CMakeCache.txt" "$dir/CMakeFiles"
fi
cmake -S . -B "$dir" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Debug -DNB_FUZZ=ON >/dev/null
cmake --build "$dir" -j 2 >/dev/null
"$dir/tests/fuzz/fuzz_make_seeds" "$dir/seeds" >/dev/null

case $target in
  all) targets=(idx cifar checkpoint npy ops) ;;
  idx|cifar|checkpoint|npy|ops) targets=("$target") ;;
  *) echo "fuzz: unknown target '$target' (idx, cifar, checkpoint, npy, ops or all)"; exit 2 ;;
esac

status=0
for t in "${targets[@]}"; do
  corpus=$dir/corpus/$t
  crashes=$dir/crashes/$t
  mkdir -p "$corpus" "$crashes" "$dir/seeds/$t" # fuzz_ops starts from no seed: any bytes run
  log=$dir/fuzz-$t.log
  # In CI every target runs a fixed, seeded sequence of inputs (deterministic: the suite never
  # goes red by chance or by machine load); without CI=true each explores for SECONDS.
  limit="-max_total_time=$seconds"
  what="for ${seconds}s"
  if [ "${CI:-}" = true ]; then
    case $t in
      ops) runs=${NB_FUZZ_OPS_RUNS:-30000} ;;
      idx) runs=200000 ;;
      cifar) runs=300000 ;;
      *) runs=500000 ;;
    esac
    limit="-seed=1 -runs=$runs"
    what="for $runs seeded runs"
  fi
  echo "== fuzz_$t $what (log $log) =="
  if ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     "$dir/tests/fuzz/fuzz_$t" $limit -max_len=16384 -rss_limit_mb=2048 \
       -timeout=20 -print_final_stats=1 -artifact_prefix="$crashes/" \
       "$corpus" "$dir/seeds/$t" $([ -d "tests/fuzz/regressions/$t" ] && echo "tests/fuzz/regressions/$t") \
       >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo ?)
    echo "fuzz_$t: ok, $runs executions, corpus $(ls "$corpus" | wc -l) inputs"
  else
    echo "fuzz_$t: FAILED — see $log and $crashes"
    tail -n 40 "$log"
    status=1
  fi
done
exit $status
