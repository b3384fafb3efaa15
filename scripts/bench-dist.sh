#!/usr/bin/env bash
# Data-parallel scaling on this machine (docs/distributed.md, "Scaling"): for W1, W2, W3 and W5,
# 1 rank x 1 thread (the plain single-process benchmark) against 2 ranks x 1 thread (weak
# scaling: every rank runs the workload's batch), for nabla (mpirun bench_workloads --dist) and
# PyTorch 1.13 DistributedDataParallel over gloo (bench/torch_ddp.py), the four runs of a
# workload interleaved, ROUNDS rounds; then one gradient all-reduce of each workload's size on
# 2, 4 and 8 ranks (bench_allreduce, oversubscribed) for the cost model. JSON lines go to
# $OUT/results.jsonl; bench/dist_model.py turns them into the tables.
#   ROUNDS=3 STEPS=30 WORKLOADS="W1 W2 W3 W5" scripts/bench-dist.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-3}
steps=${STEPS:-30}
workloads=${WORKLOADS:-"W1 W2 W3 W5"}
out=${OUT:-bench-dist-output}
b=${BUILD:-build-release}
cmake -S . -B "$b" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$b" -j 2 --target bench_workloads bench_allreduce >/dev/null
mkdir -p "$out"
res=$out/results.jsonl
: >"$res"
export OMPI_MCA_btl_vader_single_copy_mechanism=none # containers forbid cross-memory attach
mpi=(mpirun --allow-run-as-root --oversubscribe)
py=/usr/bin/python3
# gradient f32 values per workload (bench_workloads --dist prints them as grad_mib)
declare -A floats=([W1]=535818 [W2]=421642 [W3]=4210090 [W5]=350593)
tag() { sed "s/^{/{\"round\": $1, \"load\": \"$(cut -d' ' -f1 /proc/loadavg)\", /" >>"$res"; }
for r in $(seq 1 "$rounds"); do
  for w in $workloads; do
    echo "round $r/$rounds: $w" >&2
    "$b"/bench/bench_workloads --workload "$w" --threads 1 --steps "$steps" | tag "$r"
    "${mpi[@]}" -np 2 "$b"/bench/bench_workloads --workload "$w" --threads 1 --steps "$steps" \
      --dist | tag "$r"
    $py bench/torch_workloads.py --workload "$w" --threads 1 --steps "$steps" | tag "$r"
    $py bench/torch_ddp.py --workload "$w" --world 2 --steps "$steps" \
      --port $((29500 + RANDOM % 2000)) | tag "$r"
  done
  for np in 2 4 8; do # the workloads' gradients, and 1 KiB and 256 KiB for the latency term
    for n in 256 65536 $(for w in $workloads; do echo "${floats[$w]}"; done); do
      "${mpi[@]}" -np "$np" "$b"/bench/bench_allreduce --floats "$n" --reps 30 | tag "$r"
    done
  done
done
$py bench/dist_model.py "$res"
