#!/usr/bin/python3
"""PyTorch baseline for nabla's reference workloads W1-W8 (see docs/benchmarks.md).

Same definitions as bench/workloads.c: one process runs one workload at one thread count and
prints one JSON object (median/min/max ms per training step after warm-up, GFLOP per step,
peak RSS). Inputs are random tensors of the workload's shape: the step time does not depend on
the values. Run through scripts/bench.sh, which alternates nabla and PyTorch runs.

    /usr/bin/python3 bench/torch_workloads.py --workload W1 --threads 1 --steps 50
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time


def parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--workload", required=True, choices=[f"W{i}" for i in range(1, 9)])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=50, help="timed steps")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--startup", type=int, default=-1,
                   help="the runner's clock (date +%%s%%N, ns) just before starting this process:\n"
                        "startup_ms = end of the first training step - STARTUP (-1 without)")
    p.add_argument("--latency", action="store_true",
                   help="W1, W2: batch-1 inference under torch.no_grad() in eval mode, --steps\n"
                        "single forward passes: median and 99th percentile in microseconds")
    p.add_argument("--label", default="pytorch",
                   help="framework name in the JSON line (the runner tags the run that uses\n"
                        "nabla's BLIS kernels through BLIS_ARCH_TYPE as pytorch_same_blis,\n"
                        "and the tuned configurations as pytorch_<allocator>_<blas>)")
    return p.parse_args()


args = parse()
# BLIS reads only its environment variables, so set them before torch loads libblas.
for var in ("OMP_NUM_THREADS", "BLIS_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = str(args.threads)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(args.threads)
torch.manual_seed(0)


def gemm_flops(m, n, k):
    return 2.0 * m * n * k


def linear_flops(batch, sizes):
    """Forward + backward (dX and dW) GEMM flops of an MLP: 3 GEMMs per layer."""
    return sum(3 * gemm_flops(batch, b, a) for a, b in zip(sizes[:-1], sizes[1:]))


def conv_flops(n, c, h, w, o, k):
    """3x3 pad-1 conv, stride 1: output h x w; forward + dX + dW."""
    return 3 * gemm_flops(o, n * h * w, c * k * k)


def make_workload(name):
    if name == "W1":
        net = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                            nn.Linear(256, 10))
        x, y = torch.rand(128, 784), torch.randint(0, 10, (128,))
        opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
        return net, opt, lambda: F.cross_entropy(net(x), y), linear_flops(128, [784, 512, 256, 10])
    if name == "W2":
        net = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
        x, y = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))
        opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
        fl = conv_flops(64, 1, 28, 28, 32, 3) + conv_flops(64, 32, 14, 14, 64, 3) + \
            linear_flops(64, [3136, 128, 10])
        return net, opt, lambda: F.cross_entropy(net(x), y), fl
    if name == "W3":
        net = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Dropout(0.3),
                            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Flatten(), nn.Linear(8192, 512), nn.ReLU(), nn.Dropout(0.5),
                            nn.Linear(512, 10))
        x, y = torch.rand(32, 3, 32, 32), torch.randint(0, 10, (32,))
        opt = torch.optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
        fl = conv_flops(32, 3, 32, 32, 32, 3) + conv_flops(32, 32, 32, 32, 32, 3) + \
            linear_flops(32, [8192, 512, 10])
        return net, opt, lambda: F.cross_entropy(net(x), y), fl
    if name == "W4":
        sizes = [784, 128, 64, 36, 18, 9, 18, 36, 64, 128, 784]
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers += [nn.Linear(a, b), nn.Sigmoid() if i == len(sizes) - 2 else nn.ReLU()]
        net = nn.Sequential(*layers)
        x = torch.rand(32, 784)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        return net, opt, lambda: F.mse_loss(net(x), x), linear_flops(32, sizes)
    if name in ("W5", "W6"):
        V, E, H, T, B = 65, 64, 256, 64, 32
        rnn_cls = nn.LSTM if name == "W5" else nn.GRU
        gates = 4 if name == "W5" else 3

        class CharModel(nn.Module):
            def __init__(self):
                super().__init__()
                self.emb = nn.Embedding(V, E)
                self.rnn = rnn_cls(E, H, batch_first=True)
                self.out = nn.Linear(H, V)

            def forward(self, ids):
                h, _ = self.rnn(self.emb(ids))
                return self.out(h)

        net = CharModel()
        ids, tgt = torch.randint(0, V, (B, T)), torch.randint(0, V, (B, T))
        opt = torch.optim.Adam(net.parameters(), lr=2e-3)
        fl = T * (3 * gemm_flops(B, gates * H, E) + 3 * gemm_flops(B, gates * H, H)) + \
            3 * gemm_flops(B * T, V, H)
        return net, opt, lambda: F.cross_entropy(net(ids).reshape(B * T, V), tgt.reshape(-1)), fl
    if name == "W7":
        V, H, B = 784, 500, 64
        W = torch.randn(V, H) * 0.01
        bv, bh = torch.zeros(V), torch.zeros(H)
        vel = [torch.zeros_like(W), torch.zeros_like(bv), torch.zeros_like(bh)]
        v0 = (torch.rand(B, V) > 0.5).float()
        lr, mom = 0.01, 0.5

        def cd1():
            # The same form as nabla's W7: bias and product in one addmm, the weight's velocity
            # takes both statistics' products in place (addmm_ with beta = mom, then 1).
            with torch.no_grad():
                ph0 = torch.sigmoid(torch.addmm(bh, v0, W))
                h0 = torch.bernoulli(ph0)
                pv1 = torch.sigmoid(torch.addmm(bv, h0, W.t()))
                v1 = torch.bernoulli(pv1)
                ph1 = torch.sigmoid(torch.addmm(bh, v1, W))
                vel[0].addmm_(v0.t(), ph0, beta=mom, alpha=lr / B)
                vel[0].addmm_(v1.t(), ph1, alpha=-lr / B)
                for g, v in zip([(v0 - v1).mean(0), (ph0 - ph1).mean(0)], vel[1:]):
                    v.mul_(mom).add_(g, alpha=lr)
                for p, v in zip([W, bv, bh], vel):
                    p.add_(v)
            return None
        # CD-1: 3 forward-sized GEMMs (up, down, up) + 2 for the statistics.
        return None, None, cd1, 5 * gemm_flops(B, H, V)
    if name == "W8":
        V, d, heads, T, B, L = 65, 128, 4, 128, 16, 4

        class GPT(nn.Module):
            """examples/gpt_chars.c: embeddings + learned positions, causal pre-norm layers
            (GELU in its tanh form, as nabla's layers), LayerNorm, tied output projection."""

            def __init__(self):
                super().__init__()
                self.tok = nn.Embedding(V, d)
                self.pos = nn.Embedding(T, d)
                layer = nn.TransformerEncoderLayer(
                    d, heads, 4 * d, dropout=0.0, batch_first=True, norm_first=True,
                    activation=lambda x: F.gelu(x, approximate="tanh"))
                self.layers = nn.TransformerEncoder(layer, L, enable_nested_tensor=False)
                self.ln = nn.LayerNorm(d)
                self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(T))
                self.register_buffer("positions", torch.arange(T))

            def forward(self, ids):
                h = self.tok(ids) + self.pos(self.positions)
                h = self.ln(self.layers(h, mask=self.mask))
                return h.reshape(-1, d) @ self.tok.weight.t()

        net = GPT()
        ids, tgt = torch.randint(0, V, (B, T)), torch.randint(0, V, (B * T,))
        opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=0.01)
        BT = B * T
        layer_fl = 3 * gemm_flops(BT, 4 * d, d) + 2 * gemm_flops(B * heads * T, T, d // heads)
        fl = 3 * (L * layer_fl + gemm_flops(BT, V, d))
        return net, opt, lambda: F.cross_entropy(net(ids), tgt), fl
    raise SystemExit(f"unknown workload {name}")


def latency(net):
    """Batch-1 inference, one forward pass at a time (as bench_workloads --latency)."""
    x = torch.rand(1, 784) if args.workload == "W1" else torch.rand(1, 1, 28, 28)
    net.eval()
    times = []
    with torch.no_grad():
        for i in range(args.warmup + args.steps):
            t0 = time.perf_counter()
            net(x)
            if i >= args.warmup:
                times.append((time.perf_counter() - t0) * 1e6)
    times.sort()
    print(json.dumps({
        "framework": args.label, "mode": "latency", "workload": args.workload,
        "threads": args.threads, "runs": args.steps, "median_us": statistics.median(times),
        "p99_us": times[int((len(times) - 1) * 0.99 + 0.5)], "min_us": times[0],
        "version": torch.__version__, "ld_preload": os.environ.get("LD_PRELOAD", ""),
        "ld_library_path": os.environ.get("LD_LIBRARY_PATH", ""),
    }))


def main():
    if args.latency and args.workload not in ("W1", "W2"):
        raise SystemExit("--latency: W1 or W2")
    net, opt, loss_fn, flops = make_workload(args.workload)
    if args.latency:
        return latency(net)

    def step():
        if opt is None:
            loss_fn()
            return
        opt.zero_grad(set_to_none=False)
        loss = loss_fn()
        loss.backward()
        opt.step()

    if net is not None:
        net.train()
    startup_ms = -1.0
    for i in range(args.warmup):
        step()
        if i == 0 and args.startup >= 0:
            startup_ms = (time.time_ns() - args.startup) / 1e6
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
        if startup_ms < 0 and args.startup >= 0:  # no warm-up: the first timed step
            startup_ms = (time.time_ns() - args.startup) / 1e6
    med = statistics.median(times)
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "framework": args.label, "blis_arch_type": os.environ.get("BLIS_ARCH_TYPE", ""),
        "ld_preload": os.environ.get("LD_PRELOAD", ""),
        "ld_library_path": os.environ.get("LD_LIBRARY_PATH", ""),
        "version": torch.__version__, "workload": args.workload,
        "threads": args.threads, "steps": args.steps, "median_ms": med, "min_ms": min(times),
        "max_ms": max(times), "gflop_per_step": flops / 1e9,
        "gflops": flops / 1e9 / (med / 1e3), "peak_rss_mb": rss_kb / 1024.0,
        "startup_ms": startup_ms,
    }))


if __name__ == "__main__":
    sys.exit(main())
