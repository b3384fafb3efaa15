#!/usr/bin/env bash
# Data-parallel demo: installs what is missing (Open MPI among it, via scripts/setup.sh), builds
# Release, and trains the MLP of scripts/demo.sh on Fashion-MNIST on 2 processes under mpirun
# (mnist_mlp --dist: each rank trains on half of every batch of 128, gradients averaged during
# backward; rank 0 prints and writes demo-dist-output/mnist_mlp_curve.png and .csv).
# A short run by default (2 epochs on 12,800 images); extra arguments go to the example
# (try --epochs 5 --limit 0 for all 60,000). NP=4 for 4 ranks; CNN=1 for examples/cnn_fashion.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
np=${NP:-2}
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
example=mnist_mlp
[ "${CNN:-0}" = 1 ] && example=cnn_fashion
cmake --build build-release -j "$jobs" --target "$example" >/dev/null
mkdir -p demo-dist-output
run=(mpirun --allow-run-as-root --oversubscribe -np "$np")
export OMPI_MCA_btl_vader_single_copy_mechanism=none # containers forbid cross-memory attach
if [ "$example" = mnist_mlp ]; then
  exec "${run[@]}" build-release/examples/mnist_mlp --dist --threads 1 --epochs 2 --limit 12800 \
    --out-dir demo-dist-output "$@"
else
  exec "${run[@]}" build-release/examples/cnn_fashion --dist --threads 1 --epochs 1 --limit 6400 \
    --out demo-dist-output/cnn_fashion "$@"
fi
