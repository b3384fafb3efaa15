#!/usr/bin/env bash
# nabla against PyTorch on the reference workloads W1-W8 (docs/benchmarks.md).
#
# Builds Release (build-bench/), then for each workload and thread count runs nabla and PyTorch
# alternately, ROUNDS times each (interleaved, so a change in machine load hits both), takes
# the median over rounds of each run's median step time, and writes
#   bench/results/<date>.json   every run and the aggregated rows
#   bench/results/<date>.md     the table (also printed)
# Timings are only meaningful on a quiet machine: check `uptime` first.
#
#   scripts/bench.sh                         all workloads, 1 and 2 threads, 3 rounds
#   WORKLOADS="W1 W4" THREADS=1 ROUNDS=1 scripts/bench.sh
#   STEPS=30 WARMUP=5 scripts/bench.sh       timed and warm-up steps per run
#   scripts/bench.sh --soak [STEPS]          W1 resident memory over STEPS steps (10000)
#   scripts/bench.sh --epoch                 W1: one Fashion-MNIST epoch, nabla only
#   scripts/bench.sh --table RAW...          the table from earlier runs' .raw.jsonl files
# Every run's JSON line is appended to bench/results/<date>.raw.jsonl as it finishes, so an
# interrupted session keeps what it measured (aggregate it, with other sessions, by --table).
set -euo pipefail
cd "$(dirname "$0")/.."

WORKLOADS=${WORKLOADS:-"W1 W2 W3 W4 W5 W6 W7 W8"}
THREADS=${THREADS:-"1 2"}
ROUNDS=${ROUNDS:-3}
STEPS=${STEPS:-30}
WARMUP=${WARMUP:-5}
PY=${PYTHON:-/usr/bin/python3}
BIN=build-bench/bench/bench_workloads

echo "== Release build (build-bench/) =="
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j 2 --target bench_workloads >/dev/null

mkdir -p bench/results
stamp=$(date -u +%Y-%m-%dT%H%M%SZ)

case "${1:-}" in
  --soak)
    n=${2:-10000}
    echo "== soak: W1, $n steps, 1 thread =="
    "$BIN" --workload W1 --threads 1 --soak "$n" | tee "bench/results/$stamp-soak.json"
    exit 0
    ;;
  --table)
    shift
    [ $# -gt 0 ] || { echo "usage: scripts/bench.sh --table RAW..."; exit 2; }
    raws=("$@")
    ;;
  --epoch)
    echo "== W1: one Fashion-MNIST epoch =="
    for t in $THREADS; do "$BIN" --workload W1 --epoch --threads "$t"; done |
      tee "bench/results/$stamp-epoch.json"
    exit 0
    ;;
  "") raws=() ;;
  *) echo "usage: scripts/bench.sh [--soak [STEPS] | --epoch | --table RAW...]"; exit 2 ;;
esac

if [ ${#raws[@]} -eq 0 ]; then
raw=bench/results/$stamp.raw.jsonl
raws=("$raw")
# nabla may run other BLIS kernels than BLIS picks by itself (nb_blas_info, ops/gemm.c). Then
# PyTorch runs twice per round: as installed, and with the same kernels forced through
# BLIS_ARCH_TYPE, so the table separates the kernel choice from the framework around it.
blas=$("$BIN" --blas-info)
echo "== nabla: $blas =="
same_id=""
if [[ $blas == *"chosen by nabla"* ]]; then
  # arch ids of BLIS 0.9's arch_t enum
  case "$blas" in
    *"sub-configuration skx "*) same_id=0 ;;
    *"sub-configuration haswell "*) same_id=3 ;;
    *"sub-configuration zen3 "*) same_id=6 ;;
  esac
fi
echo "== load before: $(uptime) =="
for w in $WORKLOADS; do
  for t in $THREADS; do
    for r in $(seq "$ROUNDS"); do
      echo "-- $w threads=$t round $r/$ROUNDS" >&2
      "$BIN" --workload "$w" --threads "$t" --steps "$STEPS" --warmup "$WARMUP" >>"$raw"
      "$PY" bench/torch_workloads.py --workload "$w" --threads "$t" --steps "$STEPS" \
        --warmup "$WARMUP" >>"$raw"
      if [ -n "$same_id" ]; then
        BLIS_ARCH_TYPE=$same_id "$PY" bench/torch_workloads.py --workload "$w" --threads "$t" \
          --steps "$STEPS" --warmup "$WARMUP" --label pytorch_same_blis >>"$raw"
      fi
    done
  done
done
echo "== load after: $(uptime) =="
fi

"$PY" - "bench/results/$stamp" "$(uptime)" "${raws[@]}" <<'EOF'
import json, statistics, sys

out, load, raws = sys.argv[1], sys.argv[2], sys.argv[3:]
runs = [json.loads(line) for raw in raws for line in open(raw) if line.strip()]
targets = {"W1": 0.5, "W2": 0.8, "W3": 0.8, "W4": 0.5, "W5": 0.7, "W6": 0.7, "W7": 0.5, "W8": 0.7}


def agg(fw, w, t):
    rs = [r for r in runs if r["framework"] == fw and r["workload"] == w and r["threads"] == t]
    if not rs:
        return None
    med = statistics.median(r["median_ms"] for r in rs)
    a = {"median_ms": med, "rounds": [r["median_ms"] for r in rs],
         "gflops": rs[0]["gflop_per_step"] / (med / 1e3),
         "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in rs)}
    if fw == "nabla":
        a["sgemm_gflops"] = statistics.median(r["sgemm_gflops"] for r in rs)
        a["sgemm_share"] = a["gflops"] / a["sgemm_gflops"]
    return a


rows = []
for w in sorted({r["workload"] for r in runs}):
    for t in sorted({r["threads"] for r in runs}):
        n, p, q = agg("nabla", w, t), agg("pytorch", w, t), agg("pytorch_same_blis", w, t)
        if n and p:
            rows.append({"workload": w, "threads": t, "nabla": n, "pytorch": p,
                         "ratio": n["median_ms"] / p["median_ms"], "target": targets[w],
                         "rss_ratio": n["peak_rss_mb"] / p["peak_rss_mb"]})
            if q:
                rows[-1]["pytorch_same_blis"] = q
                rows[-1]["ratio_same_blis"] = n["median_ms"] / q["median_ms"]
by = {(r["workload"], r["threads"]): r for r in rows}
blas = next((r["blas"] for r in runs if r.get("blas")), "")
same = any("pytorch_same_blis" in r for r in rows)

lines = ["| workload | threads | nabla ms | PyTorch ms | nabla/PyTorch | target | nabla GFLOP/s "
         "| share of SGEMM | 2-thread speedup nabla (PyTorch) | peak RSS MB nabla / PyTorch "
         "(ratio) |" + (" PyTorch ms, same BLIS kernels | nabla/PyTorch, same kernels |"
                        if same else ""), "|" + "---|" * (12 if same else 10)]
for r in rows:
    w, t, n, p = r["workload"], r["threads"], r["nabla"], r["pytorch"]
    sp = ""
    if t == 2 and (w, 1) in by:
        one = by[(w, 1)]
        sp = "%.2fx (%.2fx)" % (one["nabla"]["median_ms"] / n["median_ms"],
                                one["pytorch"]["median_ms"] / p["median_ms"])
    ok = "yes" if r["ratio"] <= r["target"] else "no"
    lines.append("| %s | %d | %.2f | %.2f | **%.2f** | <= %.1f (%s) | %.1f | %.0f%% | %s | "
                 "%.0f / %.0f (%.2f) |" % (w, t, n["median_ms"], p["median_ms"], r["ratio"],
                                           r["target"], ok, n["gflops"], 100 * n["sgemm_share"],
                                           sp, n["peak_rss_mb"], p["peak_rss_mb"],
                                           r["rss_ratio"]))
    if same:
        q = r.get("pytorch_same_blis")
        lines[-1] += (" %.2f | **%.2f** |" % (q["median_ms"], r["ratio_same_blis"]) if q
                      else "  |  |")
table = "\n".join(lines)
if blas:
    table = "nabla: " + blas + "\n\n" + table
json.dump({"load": load, "runs": runs, "rows": rows}, open(out + ".json", "w"), indent=1)
open(out + ".md", "w").write(table + "\n")
print(table)
print("\nwrote %s.json and %s.md" % (out, out))
EOF
