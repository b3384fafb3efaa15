#!/usr/bin/env bash
# The flagship demo: installs what is missing, builds Release, and trains the MLP
# (784-512-256-10, ReLU, cross-entropy, SGD momentum 0.9, batch 128) on Fashion-MNIST,
# printing progress and writing the loss/accuracy curve as PNG and CSV under demo-output/.
# Extra arguments go to the example (try: bash scripts/demo.sh --help, --epochs 2,
# --data DIR for real MNIST).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release -j "$jobs" --target mnist_mlp >/dev/null
mkdir -p demo-output
exec ./build-release/examples/mnist_mlp --threads "$jobs" --out-dir demo-output "$@"
