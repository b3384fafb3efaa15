#!/usr/bin/env bash
# Soak test: 10,000 training steps of a small MLP in a Release build, sampling the RSS every 500
# steps; fails if it grows more than 2% after a 2,000-step warm-up that
# includes the first checkpoint save + reload (examples/soak.c).
#   scripts/soak.sh [STEPS]
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-10000}
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release -j 2 --target soak >/dev/null
build-release/examples/soak --steps "$steps" --every 500 --warmup 2000 --save-every 2000 \
  --tolerance 2
