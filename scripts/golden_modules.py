#!/usr/bin/python3
"""Golden fixtures for nabla's attention, Transformer and normalisation modules, from PyTorch.

    /usr/bin/python3 scripts/golden_modules.py   (needs Debian's python3-torch and python3-numpy)

For every case of CASES below it builds the torch.nn module in float64 with dropout 0, sets every
parameter to fixed values (uniform in [-0.5, 0.5] from a seed made from the case name), runs it on
fixed inputs, backpropagates sum(out * dout) and writes, under tests/golden_modules/<case>/:
    p.<name>.npy      each parameter, under its PyTorch state_dict name
    g.<name>.npy      its gradient
    x.npy, memory.npy the inputs (memory: cross-attention / decoder) and gx.npy, gmemory.npy their
                      gradients
    key_padding.npy, memory_key_padding.npy, attn_mask.npy   masks when the case has them
                      (key padding as 0/1, 1 = padded key; attn_mask additive, [T, S])
    out.npy, dout.npy the output and the cotangent
For a module with running statistics (InstanceNorm with track_running_stats=True) it then runs a
second training forward on x2.npy, writes the buffers after the two training forwards as
b.running_mean.npy and b.running_var.npy, and writes eval_out.npy, the eval-mode output for
eval_x.npy (normalised with those running statistics).
and lists the cases in tests/golden_modules/MANIFEST. tests/nn/test_golden_modules.c loads the
PyTorch parameters into nabla's modules by the name mapping of docs/transformer.md and checks the
output and every gradient to 1e-10. The fixtures are committed; this script is run by hand when
cases change, never by a test (CI has no torch). Output is deterministic.
"""
import os
import shutil
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden_modules")
D, H, FF = 8, 2, 12


def gelu_tanh(x):
    return F.gelu(x, approximate="tanh")


def causal(t):
    return torch.triu(torch.full((t, t), float("-inf"), dtype=torch.float64), diagonal=1)


def padding(b, s, pads):
    """[b, s] bool mask: the last pads[i] keys of sample i are padded."""
    m = torch.zeros(b, s, dtype=torch.bool)
    for i, p in enumerate(pads):
        if p:
            m[i, s - p:] = True
    return m


# name -> (module factory, inputs {name: shape}, masks builder, call)
def mha_self_padding(m, x, kp):
    return m(x, x, x, key_padding_mask=kp, need_weights=False)[0]


def mha_cross(m, x, mem, kp, am):
    return m(x, mem, mem, key_padding_mask=kp, attn_mask=am, need_weights=False)[0]


def mha_causal(m, x):
    return m(x, x, x, attn_mask=causal(x.shape[1]), need_weights=False)[0]


def enc(m, x, kp, is_causal):
    return m(x, src_mask=causal(x.shape[1]) if is_causal else None, src_key_padding_mask=kp)


def dec(m, x, mem, kp, mkp):
    return m(x, mem, tgt_mask=causal(x.shape[1]), tgt_key_padding_mask=kp,
             memory_key_padding_mask=mkp)


def mha():
    return nn.MultiheadAttention(D, H, dropout=0.0, batch_first=True)


def encoder(norm_first, activation):
    return nn.TransformerEncoderLayer(D, H, FF, dropout=0.0, activation=activation,
                                      batch_first=True, norm_first=norm_first)


def decoder(norm_first, activation):
    return nn.TransformerDecoderLayer(D, H, FF, dropout=0.0, activation=activation,
                                      batch_first=True, norm_first=norm_first)


B, T, S = 2, 5, 6
CASES = [
    # name, module, input shapes, masks, forward
    ("mha_self_padding", mha, {"x": (B, T, D)}, {"key_padding": (B, T, [0, 2])},
     lambda m, i: mha_self_padding(m, i["x"], i["key_padding"])),
    ("mha_cross", mha, {"x": (B, T, D), "memory": (B, S, D)},
     {"memory_key_padding": (B, S, [1, 3]), "attn_mask": (T, S)},
     lambda m, i: mha_cross(m, i["x"], i["memory"], i["memory_key_padding"], i["attn_mask"])),
    ("mha_causal", mha, {"x": (B, T, D)}, {}, lambda m, i: mha_causal(m, i["x"])),
    ("encoder_prenorm", lambda: encoder(True, gelu_tanh), {"x": (B, T, D)},
     {"key_padding": (B, T, [2, 0])}, lambda m, i: enc(m, i["x"], i["key_padding"], False)),
    ("encoder_postnorm", lambda: encoder(False, "relu"), {"x": (B, T, D)},
     {"key_padding": (B, T, [0, 1])}, lambda m, i: enc(m, i["x"], i["key_padding"], True)),
    ("encoder_prenorm_gelu", lambda: encoder(True, "gelu"), {"x": (B, T, D)}, {},
     lambda m, i: enc(m, i["x"], None, True)),
    ("decoder_prenorm", lambda: decoder(True, "gelu"), {"x": (B, T, D), "memory": (B, S, D)},
     {"key_padding": (B, T, [1, 0]), "memory_key_padding": (B, S, [0, 2])},
     lambda m, i: dec(m, i["x"], i["memory"], i["key_padding"], i["memory_key_padding"])),
    ("decoder_postnorm", lambda: decoder(False, "relu"), {"x": (B, T, D), "memory": (B, S, D)},
     {"memory_key_padding": (B, S, [3, 0])},
     lambda m, i: dec(m, i["x"], i["memory"], None, i["memory_key_padding"])),
    ("layer_norm", lambda: nn.LayerNorm([4, 5]), {"x": (3, 4, 5)}, {},
     lambda m, i: m(i["x"])),
    ("group_norm", lambda: nn.GroupNorm(3, 6), {"x": (2, 6, 4, 3)}, {},
     lambda m, i: m(i["x"])),
    ("group_norm_1d", lambda: nn.GroupNorm(2, 4, eps=1e-3), {"x": (3, 4, 7)}, {},
     lambda m, i: m(i["x"])),
    ("instance_norm2d", lambda: nn.InstanceNorm2d(4), {"x": (2, 4, 5, 3)}, {},
     lambda m, i: m(i["x"])),
    ("instance_norm2d_affine", lambda: nn.InstanceNorm2d(4, affine=True), {"x": (2, 4, 5, 3)},
     {}, lambda m, i: m(i["x"])),
    ("instance_norm1d_affine", lambda: nn.InstanceNorm1d(3, affine=True, eps=1e-4),
     {"x": (2, 3, 6)}, {}, lambda m, i: m(i["x"])),
    ("instance_norm1d_running", lambda: nn.InstanceNorm1d(3, track_running_stats=True),
     {"x": (2, 3, 6)}, {}, lambda m, i: m(i["x"])),
    ("instance_norm2d_running_affine",
     lambda: nn.InstanceNorm2d(4, eps=1e-3, momentum=0.3, affine=True, track_running_stats=True),
     {"x": (3, 4, 5, 3)}, {}, lambda m, i: m(i["x"])),
]


def save(folder, name, t):
    a = t.detach().numpy() if isinstance(t, torch.Tensor) else t
    np.save(os.path.join(folder, name + ".npy"), np.ascontiguousarray(a))


def run(name, make, shapes, masks, fwd):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    torch.manual_seed(0)
    m = make().double()
    m.train()
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, tuple(p.shape))))
    inputs = {}
    for k, shape in shapes.items():
        inputs[k] = torch.from_numpy(rng.uniform(-1, 1, shape)).requires_grad_(True)
    for k, spec in masks.items():
        if k == "attn_mask":
            inputs[k] = torch.from_numpy(rng.uniform(-1, 1, spec))
        else:
            inputs[k] = padding(*spec)
    out = fwd(m, inputs)
    dout = torch.from_numpy(rng.uniform(-1, 1, tuple(out.shape)))
    (out * dout).sum().backward()
    folder = os.path.join(ROOT, name)
    os.makedirs(folder)
    for pname, p in m.named_parameters():
        save(folder, "p." + pname, p)
        save(folder, "g." + pname, p.grad)
    for k, v in inputs.items():
        save(folder, k, v.double() if v.dtype == torch.bool else v)
        if k in shapes:
            save(folder, "g" + k, v.grad)
    save(folder, "out", out)
    save(folder, "dout", dout)
    assert torch.isfinite(out).all(), name
    if getattr(m, "track_running_stats", False):
        shape = shapes["x"]
        x2 = torch.from_numpy(rng.uniform(-2, 3, shape))
        x_eval = torch.from_numpy(rng.uniform(-2, 2, shape))
        with torch.no_grad():
            m(x2)
            save(folder, "x2", x2)
            save(folder, "b.running_mean", m.running_mean)
            save(folder, "b.running_var", m.running_var)
            m.eval()
            save(folder, "eval_x", x_eval)
            save(folder, "eval_out", m(x_eval))
    return len(list(m.parameters()))


def main():
    if os.path.isdir(ROOT):
        shutil.rmtree(ROOT)
    os.makedirs(ROOT)
    lines = ["# written by scripts/golden_modules.py (torch %s): case n_params" % torch.__version__]
    for name, make, shapes, masks, fwd in CASES:
        lines.append("%s %d" % (name, run(name, make, shapes, masks, fwd)))
    with open(os.path.join(ROOT, "MANIFEST"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %d cases to %s" % (len(CASES), os.path.normpath(ROOT)))


if __name__ == "__main__":
    main()
