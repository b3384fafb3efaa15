#!/usr/bin/env bash
# The whole test suite: installs what is missing, checks formatting, builds and runs every
# test in a Release build and in an AddressSanitizer + UndefinedBehaviorSanitizer build.
#   scripts/test.sh            both builds
#   NB_TEST_BUILDS=release scripts/test.sh    only one (release | sanitize)
# Then each fuzz target runs for NB_FUZZ_SECONDS (default 30; 0 skips the stage); with CI=true
# (as .ci/run sets) each runs a fixed, seeded number of inputs instead — see scripts/fuzz.sh. scripts/setup.sh installs clang and libFuzzer; if they are missing all the
# same, the stage is skipped with a message, except in CI (CI=true), where that is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
jobs=$(nproc 2>/dev/null || echo 2)
builds=${NB_TEST_BUILDS:-"release sanitize"}

echo "== format check (clang-format) =="
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
clang-format --dry-run -Werror $files

for b in $builds; do
  case $b in
    release)  dir=build-release;  flags=(-DCMAKE_BUILD_TYPE=Release) ;;
    sanitize) dir=build-sanitize; flags=(-DCMAKE_BUILD_TYPE=Debug -DNB_SANITIZE=ON) ;;
    *) echo "unknown build $b"; exit 2 ;;
  esac
  echo "== $b build =="
  cmake -S . -B "$dir" "${flags[@]}" >/dev/null
  cmake --build "$dir" -j "$jobs" >/dev/null
  echo "== $b tests =="
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir "$dir" --output-on-failure -j "$jobs"
done

fuzz_seconds=${NB_FUZZ_SECONDS:-30}
if [ "$fuzz_seconds" -gt 0 ]; then
  echo "== fuzz =="
  rc=0
  bash scripts/fuzz.sh all "$fuzz_seconds" || rc=$?
  if [ "$rc" -eq 77 ] && [ "${CI:-}" = true ]; then
    echo "fuzz: CI must run the fuzz targets, but clang or libFuzzer is missing (scripts/setup.sh)"
    exit 1
  elif [ "$rc" -eq 77 ]; then
    echo "fuzz: skipped"
  elif [ "$rc" -ne 0 ]; then
    exit "$rc"
  fi
fi
