#!/usr/bin/python3
"""Golden fixtures for nabla's ops, computed by PyTorch in float64.

    /usr/bin/python3 scripts/golden_ops.py     (needs Debian's python3-torch and python3-numpy)

For every case of CASES below it writes, under tests/golden/<case>/:
    in0.npy, in1.npy, ...   the inputs (f64, or i64 for index/integer inputs)
    out.npy                 the op's output (f64; masks as 0/1)
    dout.npy, grad<i>.npy   a cotangent and the gradient it gives input i (differentiable ops)
and lists the cases in tests/golden/MANIFEST. tests/ops/test_golden_compare.c loads them with
nb_npy_load and checks forward and backward against them (f64 to 1e-10 relative, f32 forward to
1e-5). The fixtures are committed; this script is run by hand when cases change, never by a test
(CI has no torch). Output is deterministic: each case draws its values from a seed made from its
name.

Adding an op: one Case(...) line below (inputs, the torch function, which inputs get gradients)
and one X(...) line with the same name in GOLDEN_OPS of tests/ops/test_golden_compare.c that
computes the same thing with nabla. The C test fails for a fixture with no C line and for a C line
with no fixture.
"""
import math
import os
import shutil
import sys
import zlib

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden")

# Values that exercise IEEE corner cases in comparisons; repeats make eq/ne hit both ways.
SPECIAL = np.array([-1.0, 0.0, 0.5, 1.0, 1.0, math.nan, math.inf, -math.inf])


class Input:
    """An input spec: shape and how its values are drawn."""

    def __init__(self, kind, shape, lo=-1.0, hi=1.0):
        self.kind, self.shape, self.lo, self.hi = kind, tuple(shape), lo, hi

    def draw(self, rng):
        if self.kind == "uniform":
            return torch.from_numpy(rng.uniform(self.lo, self.hi, self.shape))
        if self.kind == "special":
            return torch.from_numpy(rng.choice(SPECIAL, self.shape))
        if self.kind == "mask":  # 0/1 floats
            return torch.from_numpy(rng.integers(0, 2, self.shape).astype(np.float64))
        if self.kind == "int":  # small integers, as i64
            return torch.from_numpy(rng.integers(int(self.lo), int(self.hi) + 1, self.shape))
        raise ValueError(self.kind)


def uniform(*shape, lo=-1.0, hi=1.0):
    return Input("uniform", shape, lo, hi)


def special(*shape):
    return Input("special", shape)


def mask(*shape):
    return Input("mask", shape)


def ints(*shape, lo=0, hi=3):
    return Input("int", shape, lo, hi)


class Case:
    """One fixture: name (also the C side's key), inputs, fn(*tensors) -> tensor, and the indices
    of the inputs whose gradient is checked (None: every "uniform" input)."""

    def __init__(self, name, inputs, fn, grad=None):
        self.name, self.inputs, self.fn = name, inputs, fn
        self.grad = (
            tuple(i for i, s in enumerate(inputs) if s.kind == "uniform") if grad is None else grad
        )


def b(t):
    """A 0/1 mask tensor as PyTorch's bool (nonzero = true, as nabla reads masks)."""
    return t != 0


F64 = torch.float64

# ---- the table: one line per case ----
CASES = [
    # compare.c: masks (inputs with NaN and +-Inf, broadcasting [3, 4] with [4] and [2, 1])
    Case("eq", [special(3, 4), special(4)], lambda x, y: torch.eq(x, y)),
    Case("ne", [special(3, 4), special(4)], lambda x, y: torch.ne(x, y)),
    Case("lt", [special(3, 4), special(4)], lambda x, y: torch.lt(x, y)),
    Case("le", [special(2, 1), special(2, 5)], lambda x, y: torch.le(x, y)),
    Case("gt", [special(3, 4), special(4)], lambda x, y: torch.gt(x, y)),
    Case("ge", [special(3, 4), special(3, 1)], lambda x, y: torch.ge(x, y)),
    Case("eq_i64", [ints(6), ints(6)], lambda x, y: torch.eq(x, y)),
    Case("logical_and", [special(3, 4), special(4)], lambda x, y: torch.logical_and(x, y)),
    Case("logical_or", [special(3, 4), special(4)], lambda x, y: torch.logical_or(x, y)),
    Case("logical_xor", [special(3, 4), special(4)], lambda x, y: torch.logical_xor(x, y)),
    Case("logical_not", [special(3, 4)], lambda x: torch.logical_not(x)),
    Case("isnan", [special(3, 4)], lambda x: torch.isnan(x)),
    Case("isfinite", [special(3, 4)], lambda x: torch.isfinite(x)),
    # compare.c: selection
    Case("where", [mask(3, 4), uniform(3, 4), uniform(3, 4)], lambda c, x, y: torch.where(b(c), x, y)),
    Case(
        "where_broadcast",
        [mask(3, 1), uniform(4), uniform(2, 1, 1)],
        lambda c, x, y: torch.where(b(c), x, y),
    ),
    Case(
        "masked_fill",
        [uniform(2, 3, 3), mask(3, 3)],
        lambda x, m: torch.masked_fill(x, b(m), -math.inf),
    ),
    Case("masked_fill_value", [uniform(3, 4), mask(4)], lambda x, m: torch.masked_fill(x, b(m), 2.5)),
    Case("tril", [uniform(4, 5)], lambda x: torch.tril(x)),
    Case("tril_k1", [uniform(2, 4, 3)], lambda x: torch.tril(x, 1)),
    Case("tril_km2", [uniform(5, 4)], lambda x: torch.tril(x, -2)),
    Case("triu", [uniform(4, 5)], lambda x: torch.triu(x)),
    Case("triu_k2", [uniform(2, 3, 5)], lambda x: torch.triu(x, 2)),
    Case("triu_km1", [uniform(4, 4)], lambda x: torch.triu(x, -1)),
    # unary.c: elementwise functions and activations (PyTorch's default parameters unless named)
    Case("sin", [uniform(3, 4, lo=-4, hi=4)], torch.sin),
    Case("cos", [uniform(3, 4, lo=-4, hi=4)], torch.cos),
    Case("log1p", [uniform(3, 4, lo=-0.9, hi=3)], torch.log1p),
    Case("expm1", [uniform(3, 4, lo=-3, hi=2)], torch.expm1),
    Case("erf", [uniform(3, 4, lo=-2.5, hi=2.5)], torch.erf),
    Case("gelu", [uniform(4, 5, lo=-4, hi=4)], lambda x: F.gelu(x)),
    Case("gelu_tanh", [uniform(4, 5, lo=-4, hi=4)], lambda x: F.gelu(x, approximate="tanh")),
    Case("silu", [uniform(4, 5, lo=-8, hi=8)], F.silu),
    Case("mish", [uniform(4, 5, lo=-8, hi=8)], F.mish),
    Case("softplus", [uniform(4, 5, lo=-10, hi=10)], F.softplus),
    Case("elu", [uniform(4, 5, lo=-3, hi=2)], lambda x: F.elu(x, alpha=0.7)),
    Case("selu", [uniform(4, 5, lo=-3, hi=2)], F.selu),
    Case("hardtanh", [uniform(5, 6, lo=-2, hi=2)], lambda x: F.hardtanh(x, -0.5, 1.25)),
    Case("softsign", [uniform(4, 5, lo=-4, hi=4)], F.softsign),
    Case("rsqrt", [uniform(3, 4, lo=0.2, hi=3)], torch.rsqrt),
    Case("reciprocal", [uniform(3, 4, lo=-2, hi=2)], torch.reciprocal),
    # unary.c: not differentiable (halves, signed zeros, NaN and infinities in the special cases)
    Case("sign", [special(3, 4)], torch.sign, grad=()),
    Case("floor", [uniform(3, 4, lo=-3, hi=3)], torch.floor, grad=()),
    Case("ceil", [uniform(3, 4, lo=-3, hi=3)], torch.ceil, grad=()),
    Case("round", [uniform(3, 4, lo=-3, hi=3)], torch.round, grad=()),
    Case("round_special", [special(3, 4)], torch.round, grad=()),
    Case("floor_special", [special(3, 4)], torch.floor, grad=()),
    Case("ceil_special", [special(3, 4)], torch.ceil, grad=()),
    # binary.c: pow with a tensor exponent, broadcasting; gradients at 0, NaN and +-Inf
    Case("pow", [uniform(3, 4, lo=0.3, hi=2), uniform(4, lo=-2, hi=2)], torch.pow),
    Case("pow_broadcast_base", [uniform(1, 4, lo=0.3, hi=2), uniform(3, 1, lo=-2, hi=2)], torch.pow),
    Case("pow_special", [special(3, 4), special(4)], torch.pow, grad=(0, 1)),
    # create.c (no inputs)
    # (PyTorch adds step to per-vector bases, so a value that cancels to about 0 differs from
    # start + i * step by an ulp of start: the cases keep away from 0 or use exact steps)
    Case("arange", [], lambda: torch.arange(0.5, 2.45, 0.1, dtype=F64)),
    Case("arange_down", [], lambda: torch.arange(2, -3, -0.75, dtype=F64)),
    Case("linspace", [], lambda: torch.linspace(-1.5, 2.25, 7, dtype=F64)),
    Case("linspace_8", [], lambda: torch.linspace(0, 1, 8, dtype=F64)),
    Case("eye", [], lambda: torch.eye(3, 4, dtype=F64)),
    Case("full", [], lambda: torch.full((2, 3), -0.3, dtype=F64)),
    # gather.c: indexing along an axis (index inputs are i64; repeated indices accumulate)
    Case("gather", [uniform(3, 4), ints(3, 2, lo=0, hi=3)], lambda x, i: torch.gather(x, 1, i)),
    Case("gather_axis0", [uniform(3, 4), ints(5, 4, lo=0, hi=2)], lambda x, i: torch.gather(x, 0, i)),
    Case(
        "scatter_add",
        [uniform(3, 4), ints(2, 4, lo=0, hi=2), uniform(2, 4)],
        lambda x, i, s: torch.scatter_add(x, 0, i, s),
    ),
    Case("index_select", [uniform(4, 3), ints(5, lo=0, hi=3)], lambda x, i: torch.index_select(x, 0, i)),
    Case(
        "index_add",
        [uniform(4, 3), ints(5, lo=0, hi=2), uniform(4, 5)],
        lambda x, i, s: torch.index_add(x, 1, i, s, alpha=-0.5),
    ),
    Case("masked_select", [uniform(3, 4), mask(3, 4)], lambda x, m: torch.masked_select(x, b(m))),
    Case("masked_select_row", [uniform(3, 4), mask(4)], lambda x, m: torch.masked_select(x, b(m))),
    # remap.c: flip, roll, repeat/tile, padding modes (nb_pad lists pads in axis order)
    Case("flip", [uniform(2, 3, 4)], lambda x: torch.flip(x, (0, 2))),
    Case("roll", [uniform(3, 5)], lambda x: torch.roll(x, (2, -1), (1, 0))),
    Case("roll_flat", [uniform(3, 5)], lambda x: torch.roll(x, 4)),
    Case("repeat", [uniform(2, 3)], lambda x: x.repeat(2, 1, 3)),
    Case("tile", [uniform(2, 3)], lambda x: torch.tile(x, (2,))),
    Case(
        "pad_constant",
        [uniform(2, 3, 4)],
        lambda x: torch.nn.functional.pad(x, (1, 2, 0, 3), value=0.7),
    ),
    Case(
        "pad_reflect",
        [uniform(1, 2, 3, 4)],
        lambda x: torch.nn.functional.pad(x, (3, 1, 2, 0), mode="reflect"),
    ),
    Case(
        "pad_replicate",
        [uniform(1, 2, 3, 4)],
        lambda x: torch.nn.functional.pad(x, (2, 3, 1, 4), mode="replicate"),
    ),
    Case(
        "pad_circular",
        [uniform(1, 2, 3, 4)],
        lambda x: torch.nn.functional.pad(x, (4, 1, 3, 2), mode="circular"),
    ),
    # einsum.c
    Case("einsum_matmul", [uniform(3, 4), uniform(4, 5)], lambda x, y: torch.einsum("ij,jk->ik", x, y)),
    Case(
        "einsum_bmm",
        [uniform(2, 3, 4), uniform(2, 4, 5)],
        lambda x, y: torch.einsum("bij,bjk->bik", x, y),
    ),
    Case(
        "einsum_attention",
        [uniform(2, 2, 3, 4), uniform(2, 2, 5, 4)],
        lambda x, y: torch.einsum("bhqd,bhkd->bhqk", x, y),
    ),
    Case(
        "einsum_general",
        [uniform(3, 2, 2, 4, 2), uniform(2, 3, 2)],
        lambda x, y: torch.einsum("jxbil,ljb->bli", x, y),
    ),
    Case("outer", [uniform(3), uniform(4)], lambda x, y: torch.outer(x, y)),
    # loss.c: losses (targets of the margin losses are +-1 made from 0/1 masks; class weights are
    # not differentiated, as in PyTorch; ignore_index -1 with targets drawn from [-1, C))
    Case("nll", [uniform(4, 5, lo=-3, hi=0), ints(4, lo=0, hi=4)], lambda x, t: F.nll_loss(x, t)),
    Case(
        "nll_weight_ignore_nd",
        [uniform(3, 4, 2, lo=-3, hi=0), ints(3, 2, lo=-1, hi=3), uniform(4, lo=0.2, hi=2)],
        lambda x, t, w: F.nll_loss(x, t, weight=w, ignore_index=-1),
        grad=(0,),
    ),
    Case(
        "cross_entropy_nd",
        [uniform(2, 4, 3, 2, lo=-3, hi=3), ints(2, 3, 2, lo=0, hi=3)],
        lambda x, t: F.cross_entropy(x, t),
    ),
    Case(
        "cross_entropy_options",
        [uniform(6, 4, lo=-3, hi=3), ints(6, lo=-1, hi=3), uniform(4, lo=0.2, hi=2)],
        lambda x, t, w: F.cross_entropy(x, t, weight=w, ignore_index=-1, label_smoothing=0.2),
        grad=(0,),
    ),
    Case(
        "cross_entropy_smooth_nd_sum",
        [uniform(2, 5, 3, lo=-3, hi=3), ints(2, 3, lo=-1, hi=4)],
        lambda x, t: F.cross_entropy(x, t, ignore_index=-1, label_smoothing=0.35, reduction="sum"),
    ),
    Case(
        "cross_entropy_weight_none",
        [uniform(5, 3, lo=-3, hi=3), ints(5, lo=0, hi=2), uniform(3, lo=0.2, hi=2)],
        lambda x, t, w: F.cross_entropy(x, t, weight=w, reduction="none"),
        grad=(0,),
    ),
    Case(
        "bce_with_logits_pos_weight",
        [uniform(4, 3, lo=-4, hi=4), uniform(4, 3, lo=0, hi=1), uniform(3, lo=0.5, hi=3)],
        lambda z, t, p: F.binary_cross_entropy_with_logits(z, t, pos_weight=p),
        grad=(0, 1),
    ),
    Case(
        "bce_with_logits_weights_sum",
        [uniform(4, 3, lo=-4, hi=4), uniform(4, 3, lo=0, hi=1), uniform(4, 1, lo=0, hi=2),
         uniform(3, lo=0.5, hi=3)],
        lambda z, t, w, p: F.binary_cross_entropy_with_logits(z, t, weight=w, pos_weight=p,
                                                              reduction="sum"),
        grad=(0, 1),
    ),
    Case("l1", [uniform(3, 4), uniform(3, 4)], lambda x, y: F.l1_loss(x, y)),
    Case(
        "smooth_l1",
        [uniform(3, 4, lo=-2, hi=2), uniform(3, 4, lo=-2, hi=2)],
        lambda x, y: F.smooth_l1_loss(x, y, beta=0.8, reduction="none"),
    ),
    Case(
        "huber",
        [uniform(3, 4, lo=-2, hi=2), uniform(3, 4, lo=-2, hi=2)],
        lambda x, y: F.huber_loss(x, y, delta=0.7, reduction="sum"),
    ),
    Case(
        "kl_div_batchmean",
        [uniform(4, 5, lo=-4, hi=-0.1), uniform(4, 5, lo=0, hi=1)],
        lambda x, t: F.kl_div(x, t, reduction="batchmean"),
    ),
    Case(
        "kl_div_log_target",
        [uniform(3, 4, lo=-4, hi=-0.1), uniform(3, 4, lo=-4, hi=-0.1)],
        lambda x, t: F.kl_div(x, t, reduction="none", log_target=True),
    ),
    Case(
        "hinge_embedding",
        [uniform(3, 4, lo=-2, hi=2), mask(3, 4)],
        lambda x, m: F.hinge_embedding_loss(x, 2 * m - 1, margin=0.6, reduction="none"),
    ),
    Case(
        "margin_ranking",
        [uniform(6), uniform(6), mask(6)],
        lambda a, b, m: F.margin_ranking_loss(a, b, 2 * m - 1, margin=0.3),
    ),
    Case(
        "cosine_embedding",
        [uniform(5, 4), uniform(5, 4), mask(5)],
        lambda a, b, m: F.cosine_embedding_loss(a, b, 2 * m - 1, margin=0.1, reduction="none"),
    ),
    # reduce.c: min, prod, var/std, norm, logsumexp, any/all (zeros in prod's and cumprod's
    # inputs come from multiplying by a 0/1 mask)
    Case("min", [uniform(3, 4, 5)], lambda x: torch.min(x, 1).values),
    Case("amin_axes", [uniform(2, 3, 4)], lambda x: torch.amin(x, (0, 2), keepdim=True)),
    Case("argmin", [uniform(3, 4, 5)], lambda x: torch.argmin(x, 2), grad=()),
    Case("prod", [uniform(3, 5, lo=-2, hi=2)], lambda x: torch.prod(x, 1)),
    Case("prod_zeros", [uniform(6, 4), mask(6, 4)], lambda x, m: torch.prod(x * m, 1)),
    Case("var", [uniform(3, 5)], lambda x: torch.var(x, (1,), correction=1)),
    Case("var_population", [uniform(2, 3, 4)], lambda x: torch.var(x, (0, 2), correction=0, keepdim=True)),
    Case("std", [uniform(4, 5)], lambda x: torch.std(x, (0,), correction=1)),
    Case("std_all", [uniform(3, 4)], lambda x: torch.std(x, (0, 1), keepdim=True)),
    Case("norm_1", [uniform(3, 4)], lambda x: torch.linalg.vector_norm(x, 1, (1,))),
    Case("norm_2", [uniform(3, 4)], lambda x: torch.linalg.vector_norm(x, 2, (1,))),
    Case("norm_inf", [uniform(3, 4)], lambda x: torch.linalg.vector_norm(x, math.inf, (0,), keepdim=True)),
    Case("norm_3", [uniform(2, 3, 4)], lambda x: torch.linalg.vector_norm(x, 3, (0, 2))),
    Case("norm_half_all", [uniform(3, 4)], lambda x: torch.linalg.vector_norm(x, 0.5, keepdim=True)),
    Case("logsumexp", [uniform(3, 5, lo=-5, hi=5)], lambda x: torch.logsumexp(x, 1)),
    Case("logsumexp_axes", [uniform(2, 3, 4, lo=-5, hi=5)], lambda x: torch.logsumexp(x, (0, 2), keepdim=True)),
    Case("logsumexp_special", [special(4, 3)], lambda x: torch.logsumexp(x, 1), grad=(0,)),
    Case("any", [special(4, 3)], lambda x: torch.any(x, 1), grad=()),
    Case("all", [mask(4, 3)], lambda x: torch.all(x, 0, keepdim=True), grad=()),
    # scan.c
    Case("cumsum", [uniform(3, 5)], lambda x: torch.cumsum(x, 1)),
    Case("cumprod", [uniform(4, 3, lo=-2, hi=2)], lambda x: torch.cumprod(x, 0)),
    Case("cumprod_zeros", [uniform(6, 5), mask(6, 5)], lambda x, m: torch.cumprod(x * m, 1)),
    # sort.c (stable order; ties and NaN in the special cases)
    Case("sort", [uniform(3, 5)], lambda x: torch.sort(x, 1).values),
    Case("sort_descending", [uniform(5, 3)], lambda x: torch.sort(x, 0, descending=True).values),
    Case("argsort", [uniform(3, 5)], lambda x: torch.argsort(x, 1), grad=()),
    Case("argsort_ties", [special(3, 6)], lambda x: torch.sort(x, stable=True, dim=1).indices, grad=()),
    Case(
        "argsort_ties_descending",
        [special(3, 6)],
        lambda x: torch.sort(x, stable=True, dim=1, descending=True).indices,
        grad=(),
    ),
    Case("topk", [uniform(3, 6)], lambda x: torch.topk(x, 2, 1).values),
    Case("topk_smallest", [uniform(5, 3)], lambda x: torch.topk(x, 3, 0, largest=False).values),
    Case("topk_indices", [uniform(3, 6)], lambda x: torch.topk(x, 4, 1).indices, grad=()),
]


def save(path, t):
    a = t.detach().numpy()
    if a.dtype == np.bool_:
        a = a.astype(np.float64)
    np.save(path, np.array(a, order="C"))  # (ascontiguousarray would make a 0-dim array 1-dim)


def generate(case):
    rng = np.random.default_rng(zlib.crc32(case.name.encode()))
    xs = [s.draw(rng) for s in case.inputs]
    for i in case.grad:
        xs[i].requires_grad_(True)
    y = case.fn(*xs)
    d = os.path.join(ROOT, case.name)
    os.makedirs(d)
    for i, x in enumerate(xs):
        save(os.path.join(d, "in%d.npy" % i), x)
    save(os.path.join(d, "out.npy"), y)
    if case.grad:
        dout = torch.from_numpy(rng.standard_normal(tuple(y.shape)))
        grads = torch.autograd.grad(y, [xs[i] for i in case.grad], dout)
        save(os.path.join(d, "dout.npy"), dout)
        for i, g in zip(case.grad, grads):
            save(os.path.join(d, "grad%d.npy" % i), g)
    grads = ",".join(str(i) for i in case.grad) or "-"
    return "%s %d %s" % (case.name, len(case.inputs), grads)


def main():
    names = [c.name for c in CASES]
    if len(set(names)) != len(names):
        sys.exit("golden_ops.py: duplicate case names")
    if os.path.isdir(ROOT):
        shutil.rmtree(ROOT)
    os.makedirs(ROOT)
    lines = [generate(c) for c in CASES]
    with open(os.path.join(ROOT, "MANIFEST"), "w") as f:
        f.write("# written by scripts/golden_ops.py (torch %s): case n_inputs grad_inputs\n"
                % torch.__version__)
        f.write("\n".join(lines) + "\n")
    print("golden_ops.py: %d cases in %s" % (len(lines), os.path.normpath(ROOT)))


if __name__ == "__main__":
    main()
