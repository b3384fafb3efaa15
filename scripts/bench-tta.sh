#!/usr/bin/env bash
# Time to accuracy: examples/cnn_fashion (nabla) against bench/twins/cnn_fashion.py (PyTorch),
# each trained until its test accuracy on Fashion-MNIST reaches TARGET (docs/benchmarks.md,
# "Time to accuracy").
#
# Same model, initialisation scheme (Kaiming-uniform a = sqrt(5) weights, uniform +-1/sqrt(fan_in)
# biases), Adam lr 0.001, batch 64 and data (the IDX files / 255); the same batches in the same
# order: each nabla run writes its epochs' shuffled order (--order-out, int64 .npy) and the
# PyTorch runs of that round read it (--order-in); with SAME_INIT=1 (the default) the nabla run
# also writes its initial weights (--init-out) and the PyTorch runs start from them (--init-in),
# so that which program's random initial weights happen to train better does not enter the
# comparison (SAME_INIT=0: the same scheme, each side's own draws). Both evaluate the 10,000 test images after each
# epoch (batches of 500) and stop after the first epoch at or above TARGET; the time is
# wall-clock from before reading the data to the end of that evaluation (all but process
# start-up, imports and the order file), and each program also says how much of it was reading
# the data, training and evaluating. Per round and thread count the programs run one after
# another (interleaved, so a change of machine load hits all of them): nabla, PyTorch as
# installed, then PyTorch in each tuned configuration of CONFIGS (the allocator x BLAS settings
# of scripts/bench.sh, through the environment only). The table gives medians over rounds, and
# nabla / the fastest tuned PyTorch. Timings are only meaningful on a quiet machine: check
# `uptime` first.
#
#   scripts/bench-tta.sh                         1 thread, 1 round, target 0.90
#   THREADS="1 2" ROUNDS=3 scripts/bench-tta.sh
#   SEEDS="1 2 3" scripts/bench-tta.sh           a round per seed (--seed: both sides'
#                                                initialisation, nabla's batch order), 3 rounds
#   CONFIGS="glibc_blis jemalloc_openblas" TARGET=0.88 EPOCHS=8 scripts/bench-tta.sh
#   BUILD=build-rel scripts/bench-tta.sh         use an existing Release build directory
#   scripts/bench-tta.sh --table RUNS            the table again from a run's .runs file
# Writes bench/results/<date>-tta.log (every program's output), <date>-tta.runs (each run's
# "target:" lines) and <date>-tta.md (the table).
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=${TARGET:-0.90}
EPOCHS=${EPOCHS:-10} # the most epochs a run may take
THREADS=${THREADS:-1}
ROUNDS=${ROUNDS:-1}
SEEDS=${SEEDS:-1} # ROUNDS rounds for each seed
SAME_INIT=${SAME_INIT:-1}
PY=${PYTHON:-/usr/bin/python3}
BUILD=${BUILD:-build-bench}
# the two fastest tuned configurations of W2 (this CNN's training step) in docs/benchmarks.md
CONFIGS=${CONFIGS:-"glibc_blis glibc_openblas"}
. scripts/pytorch-configs.sh # JEMALLOC, BLIS_DIR, OPENBLAS_DIR, config_env, pytorch_runnable

# table RUNS LOAD: the Markdown table of a .runs file (one line per run: label threads round
# and the program's "target:" lines).
table() {
  "$PY" - "$1" "$2" <<'EOF'
import re, statistics, sys

runs, load = sys.argv[1], sys.argv[2]
pat = re.compile(r"target: test accuracy ([0-9.]+)% >= ([0-9.]+)% after epoch (\d+) in ([0-9.]+) s")
parts = re.compile(r"of which ([0-9.]+) s reading the data, ([0-9.]+) s training, ([0-9.]+) s "
                   r"evaluating")
res, target, rounds = {}, None, set()
for line in open(runs):
    label, t, r, rest = line.rstrip("\n").split(" ", 3)
    rounds.add(r)
    m, p = pat.search(rest), parts.search(rest)
    target = float(m.group(2)) if m else target
    res.setdefault((int(t), label), []).append(
        (float(m.group(4)), int(m.group(3)), float(m.group(1)),
         "%.0f / %.0f / %.0f" % tuple(float(v) for v in p.groups()) if p else "") if m else None)


def med(rs, i):
    return statistics.median(r[i] for r in rs)


print("| program | threads | seconds to %s %% (median of %d round(s)) | epochs | test accuracy "
      "then | of which s: data / training / evaluation | nabla / this |"
      % ("%g" % target if target else "target", len(rounds)))
print("|---|---|---|---|---|---|---|")
for t in sorted({t for t, _ in res}):
    rows = {label: [r for r in rs if r] for (tt, label), rs in res.items() if tt == t}
    missed = {label: sum(r is None for r in rs) for (tt, label), rs in res.items() if tt == t}
    tuned = [label for label in rows if label.startswith("pytorch_") and rows[label]]
    best = min(tuned, key=lambda label: med(rows[label], 0)) if tuned else None
    nabla = med(rows["nabla"], 0) if rows.get("nabla") else None
    for label in ["nabla", "pytorch"] + sorted(tuned):
        rs = rows.get(label)
        if rs is None:
            continue
        name = {"nabla": "nabla", "pytorch": "PyTorch as installed"}.get(
            label, "PyTorch " + label[8:] + (" (best)" if label == best else ""))
        if not rs:
            print("| %s | %d | not reached | | | | |" % (name, t))
            continue
        s = med(rs, 0)
        ratio = "" if label == "nabla" or nabla is None else "%.2f" % (nabla / s)
        if label == best:
            ratio = "**%s**" % ratio
        note = " (%d of %d rounds missed)" % (missed[label], len(rs) + missed[label]) \
            if missed[label] else ""
        print("| %s | %d | %.1f%s | %s | %s | %s | %s |" % (
            name, t, s, note, ", ".join(str(r[1]) for r in rs),
            ", ".join("%.2f%%" % r[2] for r in rs), "; ".join(r[3] for r in rs), ratio))
if load:
    print("\nload average after the runs: %s" % load.split("load average:")[-1].strip())
EOF
}

if [ "${1:-}" = --table ]; then
  table "$2" ""
  exit 0
fi

echo "== Release build ($BUILD/) =="
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j 2 --target cnn_fashion >/dev/null
BIN=$BUILD/examples/cnn_fashion

pytorch_runnable

mkdir -p bench/results
stamp=$(date -u +%Y-%m-%dT%H%M%SZ)
log=bench/results/$stamp-tta.log
runs=bench/results/$stamp-tta.runs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
order=$tmp/order.npy
: >"$runs"

# run LABEL THREADS ROUND CMD...: CMD's output to the log, its "target:" lines to $runs.
run() {
  local label=$1 t=$2 r=$3 line
  shift 3
  echo "-- $label, $t thread(s), round $r (seed.round): $*" | tee -a "$log" >&2
  "$@" >"$tmp/out.txt" 2>&1 || true
  cat "$tmp/out.txt" >>"$log"
  line=$(grep '^target:' "$tmp/out.txt" | tr '\n' ' ' || true)
  [ -n "$line" ] || line="target: no result (see $log)"
  echo "$label $t $r $line" >>"$runs"
  echo "   $line" >&2
}

echo "== SAME_INIT=$SAME_INIT SEEDS=$SEEDS ROUNDS=$ROUNDS THREADS=$THREADS TARGET=$TARGET ==" | tee -a "$log"
echo "== load before: $(uptime) ==" | tee -a "$log"
for seed in $SEEDS; do
 for r0 in $(seq "$ROUNDS"); do
  r=$seed.$r0 # a round: seed.number
  for t in $THREADS; do
    init=()
    twin_init=()
    if [ "$SAME_INIT" = 1 ]; then
      rm -rf "$tmp/init" && mkdir -p "$tmp/init"
      init=(--init-out "$tmp/init")
      twin_init=(--init-in "$tmp/init")
    fi
    run nabla "$t" "$r" env NB_PROGRESS=quiet "$BIN" --target-accuracy "$TARGET" \
      --epochs "$EPOCHS" --threads "$t" --seed "$seed" --order-out "$order" "${init[@]}" \
      --out "$tmp/run"
    twin=("$PY" bench/twins/cnn_fashion.py --target-accuracy "$TARGET" --epochs "$EPOCHS"
          --threads "$t" --seed "$seed" --order-in "$order" "${twin_init[@]}")
    run pytorch "$t" "$r" "${twin[@]}"
    for c in "${runnable[@]}"; do
      e=$(config_env "$c")
      # shellcheck disable=SC2086 # the assignments are words on purpose
      run "pytorch_$c" "$t" "$r" env ${e% OK} "${twin[@]}"
    done
  done
 done
done
load=$(uptime)
echo "== load after: $load ==" | tee -a "$log"
table "$runs" "$load" | tee "bench/results/$stamp-tta.md"
echo "wrote bench/results/$stamp-tta.md, $runs and $log"
