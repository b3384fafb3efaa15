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
# PyTorch runs in several configurations each round: as installed (its own column, labelled so)
# and tuned, as its CPU performance guides recommend: the allocator (glibc with large mmap / trim
# thresholds and top pad, or Debian's jemalloc preloaded) times the BLAS (BLIS's blis-openmp
# build with its AVX-512 "skx" kernels, or OpenBLAS's pthread build), both through the dynamic
# loader, nothing changed system-wide. The fastest tuned configuration of each workload and
# thread count is the "PyTorch best" column that the ratios use. Missing Debian packages
# (libjemalloc2, libopenblas0-pthread, libblis4-openmp) are installed when root or sudo is
# available; the system's libblas.so.3 / liblapack.so.3 alternatives are left as they were.
#
#   scripts/bench.sh                         all workloads, 1 and 2 threads, 3 rounds
#   WORKLOADS="W1 W4" THREADS=1 ROUNDS=1 scripts/bench.sh
#   STEPS=30 WARMUP=5 scripts/bench.sh       timed and warm-up steps per run
#   CONFIGS="glibc_blis jemalloc_openblas" scripts/bench.sh   tuned configurations to try
#   scripts/bench.sh --soak [STEPS]          W1 resident memory over STEPS steps (10000)
#   scripts/bench.sh --epoch                 W1: one Fashion-MNIST epoch, nabla only
#   scripts/bench.sh --latency [RUNS]        batch-1 inference of W1 and W2 at 1 thread, nabla
#                                            and every PyTorch configuration (RUNS passes, 2000)
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
CONFIGS=${CONFIGS:-"glibc_blis jemalloc_blis glibc_blisown jemalloc_blisown glibc_openblas jemalloc_openblas"}
. scripts/pytorch-configs.sh # JEMALLOC, BLIS_DIR, OPENBLAS_DIR, config_env, pytorch_runnable

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
  --latency) latency=${2:-2000}; raws=() ;;
  "") raws=() ;;
  *) echo "usage: scripts/bench.sh [--soak [STEPS] | --epoch | --latency [RUNS] | --table RAW...]"
     exit 2 ;;
esac

if [ ${#raws[@]} -eq 0 ]; then
raw=bench/results/$stamp.raw.jsonl
raws=("$raw")

# Debian packages of the tuned configurations. Installing OpenBLAS re-points the libblas.so.3 and
# liblapack.so.3 alternatives to it (higher priority): they are put back, so PyTorch "as
# installed" stays what it was.
need=()
[ -e "$JEMALLOC" ] || need+=(libjemalloc2)
[ -e "$OPENBLAS_DIR/libblas.so.3" ] || need+=(libopenblas0-pthread)
[ -e "$BLIS_DIR/libblas.so.3" ] || need+=(libblis4-openmp)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  if [ -z "$SUDO" ] || sudo -n true 2>/dev/null; then
    echo "== installing ${need[*]} =="
    alts=(libblas.so.3-x86_64-linux-gnu liblapack.so.3-x86_64-linux-gnu)
    before=()
    # one link level: the alternative's registered path (readlink -f would give the file behind
    # it, e.g. liblapack.so.3.11.0, which update-alternatives --set refuses)
    for a in "${alts[@]}"; do before+=("$(readlink "/etc/alternatives/$a" 2>/dev/null || true)"); done
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
      "${need[@]}" >/dev/null || echo "bench.sh: could not install ${need[*]}" >&2
    for i in "${!alts[@]}"; do
      now=$(readlink "/etc/alternatives/${alts[$i]}" 2>/dev/null || true)
      if [ -n "${before[$i]}" ] && [ "$now" != "${before[$i]}" ]; then
        $SUDO update-alternatives --set "${alts[$i]}" "${before[$i]}" >/dev/null ||
          echo "bench.sh: could not put ${alts[$i]} back to ${before[$i]}" >&2
      fi
    done
  else
    echo "bench.sh: ${need[*]} missing and no root: those configurations are skipped" >&2
  fi
fi

pytorch_runnable

blas=$("$BIN" --blas-info)
echo "== nabla: $blas =="
if [ -n "${latency:-}" ]; then
  lat=bench/results/$stamp-latency.jsonl
  echo "== batch-1 inference, $latency passes, 1 thread; load before: $(uptime) =="
  for r in $(seq "$ROUNDS"); do
    for w in W1 W2; do
      "$BIN" --workload "$w" --latency --steps "$latency" --warmup 100 >>"$lat"
      "$PY" bench/torch_workloads.py --workload "$w" --latency --steps "$latency" --warmup 100 \
        >>"$lat"
      for c in "${runnable[@]}"; do
        e=$(config_env "$c")
        # shellcheck disable=SC2086 # the assignments are words on purpose
        env ${e% OK} "$PY" bench/torch_workloads.py --workload "$w" --latency \
          --steps "$latency" --warmup 100 --label "pytorch_$c" >>"$lat"
      done
    done
  done
  echo "== load after: $(uptime) =="
  "$PY" - "$lat" <<'EOF'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
print("| workload | nabla median us (p99) | PyTorch as installed | PyTorch best (configuration) "
      "| nabla/best median (p99) | target <= 0.3 |")
print("|---|---|---|---|---|---|")
for w in ("W1", "W2"):
    def agg(fw):
        rs = [r for r in runs if r["workload"] == w and r["framework"] == fw]
        return (statistics.median(r["median_us"] for r in rs),
                statistics.median(r["p99_us"] for r in rs)) if rs else None
    n, p = agg("nabla"), agg("pytorch")
    tuned = sorted({r["framework"] for r in runs if r["framework"].startswith("pytorch_")})
    cands = [(agg(f), f[len("pytorch_"):]) for f in tuned if agg(f)]
    b, bf = min(cands, key=lambda x: x[0][0]) if cands else (p, "as installed")
    if not n or not b:
        continue
    print("| %s | %.1f (%.1f) | %s | %.1f (%.1f) (%s) | **%.2f** (%.2f) | %s |" % (
        w, n[0], n[1], "%.1f (%.1f)" % p if p else "-", b[0], b[1], bf,
        n[0] / b[0], n[1] / b[1], "yes" if n[0] / b[0] <= 0.3 else "no"))
EOF
  exit 0
fi
echo "== load before: $(uptime) =="
for w in $WORKLOADS; do
  for t in $THREADS; do
    for r in $(seq "$ROUNDS"); do
      echo "-- $w threads=$t round $r/$ROUNDS" >&2
      # --startup: this shell's clock just before each process starts (start-up time)
      "$BIN" --workload "$w" --threads "$t" --steps "$STEPS" --warmup "$WARMUP" \
        --startup "$(date +%s%N)" >>"$raw"
      "$PY" bench/torch_workloads.py --workload "$w" --threads "$t" --steps "$STEPS" \
        --warmup "$WARMUP" --startup "$(date +%s%N)" >>"$raw"
      for c in "${runnable[@]}"; do
        e=$(config_env "$c")
        # shellcheck disable=SC2086 # the assignments are words on purpose
        env ${e% OK} "$PY" bench/torch_workloads.py --workload "$w" --threads "$t" \
          --steps "$STEPS" --warmup "$WARMUP" --label "pytorch_$c" \
          --startup "$(date +%s%N)" >>"$raw"
      done
    done
  done
done
echo "== load after: $(uptime) =="
fi

"$PY" - "bench/results/$stamp" "$(uptime)" "${raws[@]}" <<'EOF'
import json, statistics, sys

out, load, raws = sys.argv[1], sys.argv[2], sys.argv[3:]
runs = [json.loads(line) for raw in raws for line in open(raw) if line.strip()]
# nabla ms / best PyTorch ms (issue 19); W1 and W7 are GEMM-bound: their target is the share
# of the SGEMM rate measured in the same process
targets = {"W2": 0.6, "W3": 0.6, "W4": 0.4, "W5": 0.5, "W6": 0.5, "W8": 0.7}
share_target = 0.9
# tuned PyTorch configurations (scripts/bench.sh: pytorch_<allocator>_<blas>)
TUNED = ("pytorch_glibc_", "pytorch_jemalloc_")


def agg(fw, w, t):
    rs = [r for r in runs if r["framework"] == fw and r["workload"] == w and r["threads"] == t]
    if not rs:
        return None
    med = statistics.median(r["median_ms"] for r in rs)
    a = {"median_ms": med, "rounds": [r["median_ms"] for r in rs],
         "gflops": rs[0]["gflop_per_step"] / (med / 1e3),
         "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in rs)}
    su = [r["startup_ms"] for r in rs if r.get("startup_ms", -1) >= 0]
    a["startup_ms"] = statistics.median(su) if su else None
    if fw == "nabla":
        a["sgemm_gflops"] = statistics.median(r["sgemm_gflops"] for r in rs)
        a["sgemm_share"] = a["gflops"] / a["sgemm_gflops"]
    return a


def best(w, t):
    """The fastest tuned configuration (median over rounds), with every one's median."""
    tried = {}
    for fw in sorted({r["framework"] for r in runs if r["framework"].startswith(TUNED)}):
        a = agg(fw, w, t)
        if a:
            tried[fw[len("pytorch_"):]] = a
    if not tried:
        return None
    name = min(tried, key=lambda c: tried[c]["median_ms"])
    b = dict(tried[name], config=name)
    b["configs"] = {c: a["median_ms"] for c, a in tried.items()}
    return b


rows = []
for w in sorted({r["workload"] for r in runs}):
    for t in sorted({r["threads"] for r in runs}):
        n, p, q = agg("nabla", w, t), agg("pytorch", w, t), best(w, t)
        if not n or not (p or q):
            continue
        row = {"workload": w, "threads": t, "nabla": n}
        if p:
            row["pytorch_installed"] = p
            row["ratio_installed"] = n["median_ms"] / p["median_ms"]
        if q:
            row["pytorch_best"] = q
            row["ratio"] = n["median_ms"] / q["median_ms"]
            row["rss_ratio"] = n["peak_rss_mb"] / q["peak_rss_mb"]
        rows.append(row)
by = {(r["workload"], r["threads"]): r for r in rows}
blas = next((r["blas"] for r in runs if r.get("blas")), "")


def ms(a):
    return "%.2f" % a["median_ms"] if a else "-"


lines = ["| workload | threads | nabla ms | PyTorch best ms (configuration) | nabla/best | target "
         "| nabla GFLOP/s | share of SGEMM | 2-thread speedup nabla (PyTorch best) "
         "| peak RSS MB nabla / best (ratio) | PyTorch as installed ms | nabla/as installed |",
         "|" + "---|" * 12]
for r in rows:
    w, t, n = r["workload"], r["threads"], r["nabla"]
    q, p = r.get("pytorch_best"), r.get("pytorch_installed")
    sp = ""
    if t == 2 and (w, 1) in by and q and by[(w, 1)].get("pytorch_best"):
        one = by[(w, 1)]
        sp = "%.2fx (%.2fx)" % (one["nabla"]["median_ms"] / n["median_ms"],
                                one["pytorch_best"]["median_ms"] / q["median_ms"])
    if w in targets:
        tgt = "<= %.1f (%s)" % (targets[w], "yes" if q and r["ratio"] <= targets[w] else "no")
    else:
        tgt = "SGEMM share >= %d%% (%s)" % (100 * share_target,
                                           "yes" if n["sgemm_share"] >= share_target else "no")
    lines.append("| %s | %d | %.2f | %s | **%s** | %s | %.1f | %.0f%% | %s | %s | %s | %s |" % (
        w, t, n["median_ms"], "%s (%s)" % (ms(q), q["config"]) if q else "-",
        "%.2f" % r["ratio"] if q else "-", tgt, n["gflops"], 100 * n["sgemm_share"], sp,
        "%.0f / %.0f (%.2f)" % (n["peak_rss_mb"], q["peak_rss_mb"], r["rss_ratio"]) if q else "-",
        ms(p), "%.2f" % r["ratio_installed"] if p else "-"))
table = "\n".join(lines)
cfgs = sorted({c for r in rows if r.get("pytorch_best") for c in r["pytorch_best"]["configs"]})
if cfgs:
    table += "\n\nPyTorch tuned configurations, median ms:\n\n| workload | threads | " + \
        " | ".join(cfgs) + " |\n|" + "---|" * (2 + len(cfgs))
    for r in rows:
        c = r.get("pytorch_best", {}).get("configs", {})
        table += "\n| %s | %d | " % (r["workload"], r["threads"]) + " | ".join(
            "%.2f" % c[k] if k in c else "-" for k in cfgs) + " |"
su = [r for r in rows if r["nabla"].get("startup_ms") and r.get("pytorch_best", {}).get("startup_ms")]
if su:
    table += "\n\nStart-up: process start to the end of the first training step, median ms:\n\n" \
        "| workload | threads | nabla | PyTorch best | nabla/best |\n|---|---|---|---|---|"
    for r in su:
        n, q = r["nabla"]["startup_ms"], r["pytorch_best"]["startup_ms"]
        table += "\n| %s | %d | %.1f | %.1f | %.3f |" % (r["workload"], r["threads"], n, q, n / q)
if blas:
    table = "nabla: " + blas + "\n\n" + table
json.dump({"load": load, "runs": runs, "rows": rows}, open(out + ".json", "w"), indent=1)
open(out + ".md", "w").write(table + "\n")
print(table)
print("\nwrote %s.json and %s.md" % (out, out))
EOF
