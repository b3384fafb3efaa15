#!/usr/bin/python3
"""Golden values from PyTorch for nabla's optimizers and schedules (tests/optim/test_golden_optim.c).

Run by hand with Debian's python3-torch (`/usr/bin/python3 scripts/golden_optim.py`); it rewrites
the text files under tests/optim/golden/ and is deterministic. Each file starts with '#' lines
saying what it holds, then one line of numbers per step (17 significant digits).

Optimizers: NAdam, RAdam, Adamax (PyTorch 1.13 update rules) in float64 on the quadratic of
tests/optim/optim_problem.h, L(p) = 1/2 sum(a p^2) + sum(b p), gradient a p + b, 10 steps, with
two parameter groups: group 0 {w1} with lr 0.1 and the other options at their defaults, group 1
{w2} with lr 0.05, betas (0.8, 0.99), eps 1e-6, weight_decay 0.1 (NAdam: momentum_decay 0.01).
A line: w1 then w2 after the step.

Schedules: OneCycleLR and ReduceLROnPlateau on an optimizer with two groups; a line: each
group's lr for that step (and its momentum or beta1 when cycled)."""
import os

import torch

torch.set_default_dtype(torch.float64)  # NAdam's mu_product and the step tensors in float64

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "optim", "golden")
QA = [1.0, 2.0, 0.5, 3.0]
QB = [0.3, -1.0, 0.8, -0.2]
QP0 = [1.0, -0.5, 2.0, 0.25]
STEPS = 10


def write(name, comment, rows):
    with open(os.path.join(OUT, name + ".txt"), "w") as f:
        f.write("# written by scripts/golden_optim.py (torch %s)\n" % torch.__version__)
        for line in comment.strip().split("\n"):
            f.write("# %s\n" % line)
        for r in rows:
            f.write(" ".join("%.17g" % float(v) for v in r) + "\n")


def optimizer_case(name, cls, group1_extra):
    a = torch.tensor(QA)
    b = torch.tensor(QB)
    w1 = torch.tensor(QP0, requires_grad=True)
    w2 = torch.tensor(QP0, requires_grad=True)
    g1 = dict(params=[w2], lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)
    g1.update(group1_extra)
    shown = {k: v for k, v in g1.items() if k != "params"}
    opt = cls([dict(params=[w1], lr=0.1), g1], foreach=False)
    rows = []
    for _ in range(STEPS):
        opt.zero_grad()
        for w in (w1, w2):
            w.grad = (a * w.detach() + b).clone()
        opt.step()
        rows.append(w1.detach().tolist() + w2.detach().tolist())
    write(name, "%s, %d steps: w1 (group 0: lr 0.1, defaults), w2 (group 1: %s)" % (
        cls.__name__, STEPS, shown), rows)


def one_cycle_case(name, opt_cls, opt_kwargs, max_lr, total, **kw):
    ps = [torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)]
    opt = opt_cls([dict(params=[ps[0]]), dict(params=[ps[1]])], **opt_kwargs)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=max_lr, total_steps=total, **kw)
    key = "betas" if "betas" in opt.defaults else "momentum"
    rows = []
    for _ in range(total):
        groups = opt.param_groups
        mom = [g[key][0] if key == "betas" else g[key] for g in groups]
        rows.append([g["lr"] for g in groups] + mom)
        opt.step()
        sched.step()
    write(name, "OneCycleLR(%s, max_lr=%s, total_steps=%d, %s): per step lr0 lr1 %s0 %s1" % (
        opt_cls.__name__, max_lr, total, kw, key, key), rows)


def plateau_case(name, metrics, **kw):
    ps = [torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)]
    opt = torch.optim.SGD([dict(params=[ps[0]], lr=0.1), dict(params=[ps[1]], lr=0.05)], lr=0.1)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
    rows = []
    for m in metrics:
        sched.step(m)
        rows.append([m] + [g["lr"] for g in opt.param_groups])
    write(name, "ReduceLROnPlateau(%s) on groups with lr 0.1 and 0.05: per observation the "
          "metric, then lr0 lr1 after it" % kw, rows)


def main():
    os.makedirs(OUT, exist_ok=True)
    optimizer_case("nadam", torch.optim.NAdam, dict(momentum_decay=0.01))
    optimizer_case("radam", torch.optim.RAdam, {})
    optimizer_case("adamax", torch.optim.Adamax, {})

    one_cycle_case("one_cycle_cos", torch.optim.SGD, dict(lr=0.1, momentum=0.9), [0.1, 0.02], 25)
    one_cycle_case("one_cycle_linear_three", torch.optim.Adam, dict(lr=0.1), [0.2, 0.05], 20,
                   pct_start=0.25, anneal_strategy="linear", three_phase=True, div_factor=10.0,
                   final_div_factor=100.0, base_momentum=0.8, max_momentum=0.9)

    down = [1.0, 0.9, 0.95, 0.91, 0.92, 0.9, 0.89, 0.95, 0.9, 0.9, 0.91, 0.7, 0.8, 0.8, 0.8, 0.8,
            float("nan"), 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8]
    plateau_case("plateau_min_rel", down, mode="min", factor=0.5, patience=2, threshold=0.01,
                 cooldown=1, min_lr=0.004)
    up = [0.1, 0.2, 0.25, 0.26, 0.3, 0.29, 0.31, 0.305, 0.32, 0.33, 0.33, 0.5, 0.5, 0.49, 0.5]
    plateau_case("plateau_max_abs", up, mode="max", factor=0.3, patience=1, threshold=0.02,
                 threshold_mode="abs", cooldown=2, eps=1e-3)


if __name__ == "__main__":
    main()
