#!/usr/bin/python3
"""Tables of docs/distributed.md from scripts/bench-dist.sh's JSON lines: the measured scaling of
nabla and PyTorch DDP (gloo) on this machine, the all-reduce times against the ring model, and
the cost model's predicted efficiency at 8, 64 and 256 nodes.

    /usr/bin/python3 bench/dist_model.py bench-dist-output/results.jsonl

Cost model, per workload and step (weak scaling: every node runs the workload's batch):
  G        gradient bytes (f32), all-reduced every step
  T_c      compute time of one step on one node: measured here, 1 rank x 1 thread
  T_ar(p)  ring all-reduce over p nodes: 2 (p - 1) alpha + 2 (p - 1) / p * G / beta
           (reduce-scatter then all-gather: 2 (p - 1) messages of G / p bytes per node)
  no overlap:   T = T_c + T_ar(p)
  overlap:      backward (about 2/3 of T_c) hides the all-reduce of the buckets it finishes;
                what stays exposed is the larger of T_ar(p) - 2/3 T_c and the all-reduce of
                the last bucket (the first layers', min(G, 1 MiB), started when backward ends):
                T = T_c + max(T_ar(p) - 2/3 T_c, T_ar(p; min(G, 1 MiB)))
  efficiency = T_c / T (throughput of p nodes over p times that of one)
"""
import json
import statistics
import sys
from collections import defaultdict

NETWORKS = [  # (name, alpha seconds, beta bytes/s)
    ("10 Gb/s (TCP, alpha 30 us)", 30e-6, 10e9 / 8),
    ("100 Gb/s (RDMA, alpha 5 us)", 5e-6, 100e9 / 8),
]
NODES = [8, 64, 256]
BUCKET = 1 << 20
BATCH = {"W1": 128, "W2": 64, "W3": 32, "W5": 32}


def ring(p, nbytes, alpha, beta):
    return 2 * (p - 1) * alpha + 2 * (p - 1) / p * nbytes / beta


def fit(pts):
    """alpha, 1 / beta of the ring formula fitted to (ranks, bytes, seconds), relative error."""
    xa = [2 * (p - 1) / t for p, g, t in pts]
    xb = [2 * (p - 1) / p * g / t for p, g, t in pts]
    ys = [1.0 for _ in pts]
    saa = sum(a * a for a in xa)
    sab = sum(a * b for a, b in zip(xa, xb))
    sbb = sum(b * b for b in xb)
    say = sum(a * y for a, y in zip(xa, ys))
    sby = sum(b * y for b, y in zip(xb, ys))
    det = saa * sbb - sab * sab
    return (say * sbb - sby * sab) / det, (saa * sby - sab * say) / det


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
    by = defaultdict(list)  # (framework, workload, ranks) -> rows
    ar = defaultdict(list)  # (ranks, bytes) -> median ms of each round
    loads = [float(r["load"]) for r in rows if "load" in r]
    for r in rows:
        if r.get("bench") == "allreduce":
            ar[(r["ranks"], r["bytes"])].append(r["median_ms"])
            continue
        fw = "nabla" if r["framework"] == "nabla" else "torch"
        by[(fw, r["workload"], r.get("ranks", 1))].append(r)
    workloads = sorted({k[1] for k in by})
    rounds = max((r.get("round", 1) for r in rows), default=1)
    print(f"{rounds} round(s); load average during the runs {min(loads):.1f} to {max(loads):.1f}"
          if loads else "")

    print("\n| workload | framework | 1 rank: ms/step | samples/s | 2 ranks: ms/step | samples/s "
          "| weak-scaling efficiency (rounds) | waiting on communication |")
    print("|---|---|---|---|---|---|---|---|")
    compute = {}
    grad = {}
    for w in workloads:
        for fw, name in (("nabla", "nabla"), ("torch", "PyTorch 1.13 DDP, gloo")):
            one, two = by[(fw, w, 1)], by[(fw, w, 2)]
            if not one or not two:
                continue
            t1, t2 = med([r["median_ms"] for r in one]), med([r["median_ms"] for r in two])
            # efficiency per round (the runs of a round are interleaved), then its median
            eff = [a["median_ms"] / b["median_ms"] for a, b in zip(one, two)]
            wait = med([r["wait_ms"] / r["mean_ms"] for r in two])
            b = BATCH.get(w, two[0].get("batch_per_rank", 1))
            print(f"| {w} | {name} | {t1:.2f} | {b / t1 * 1e3:.0f} | {t2:.2f} | "
                  f"{2 * b / t2 * 1e3:.0f} | **{100 * med(eff):.0f} %** "
                  f"({', '.join(f'{100 * e:.0f}' for e in eff)}) | {100 * wait:.0f} % |")
            if fw == "nabla":
                compute[w] = t1 / 1e3
                grad[w] = two[0]["grad_mib"] * (1 << 20)

    if ar:
        # fit alpha, beta of the ring formula to the measured all-reduces: least squares on
        # T = alpha * 2 (p - 1) + (1 / beta) * 2 (p - 1) / p * G in relative error (each
        # equation divided by its measured T), once on 2 ranks (2 cores: not oversubscribed)
        # and once on all rank counts
        fit_rows = [(p, g, med(v) / 1e3) for (p, g), v in sorted(ar.items())]
        for label, pts in (("2 ranks", [x for x in fit_rows if x[0] == 2]),
                           ("2, 4 and 8 ranks", fit_rows)):
            alpha, inv_beta = fit(pts)
            print(f"\nRing fit to this machine's all-reduces on {label}: alpha "
                  f"{alpha * 1e6:.1f} us, beta {1 / inv_beta / 1e9:.2f} GB/s")
        alpha, inv_beta = fit([x for x in fit_rows if x[0] == 2])
        print("\nModel with the 2-rank fit against every measurement:\n")
        print("| ranks | gradient (MiB) | measured ms (median of rounds) | ring model ms "
              "| model / measured |")
        print("|---|---|---|---|---|")
        for p, g, t in fit_rows:
            m = alpha * 2 * (p - 1) + inv_beta * 2 * (p - 1) / p * g
            print(f"| {p} | {g / (1 << 20):.2f} | {t * 1e3:.2f} | {m * 1e3:.2f} | {m / t:.2f} |")

    print("\n| workload | G (MiB) | T_c (ms) | network | nodes | T_ar (ms): latency + bandwidth "
          "| efficiency, no overlap | with overlap |")
    print("|---|---|---|---|---|---|---|---|")
    for w in workloads:
        if w not in compute:
            continue
        g, tc = grad[w], compute[w]
        for net, alpha, beta in NETWORKS:
            for p in NODES:
                lat = 2 * (p - 1) * alpha
                bw = 2 * (p - 1) / p * g / beta
                tar = lat + bw
                exposed = max(tar - 2 / 3 * tc, ring(p, min(g, BUCKET), alpha, beta))
                print(f"| {w} | {g / (1 << 20):.2f} | {tc * 1e3:.1f} | {net} | {p} | "
                      f"{tar * 1e3:.2f} = {lat * 1e3:.2f} + {bw * 1e3:.2f} | "
                      f"{100 * tc / (tc + tar):.0f} % | {100 * tc / (tc + exposed):.0f} % |")


if __name__ == "__main__":
    main()
