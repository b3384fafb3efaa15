#!/usr/bin/python3
"""Golden fixtures for nabla's recurrent layers, computed by PyTorch in float64.

    /usr/bin/python3 scripts/golden_rnn.py     (needs Debian's python3-torch and python3-numpy)

For every case of CASES below it builds torch.nn.RNN / LSTM / GRU with the case's options, sets
every parameter to values drawn from a seed made from the case's name, runs it (through
pack_padded_sequence(enforce_sorted=False) and pad_packed_sequence(total_length=T) when the case
has lengths) and writes, under tests/golden_rnn/<case>/:
    x.npy                    the input, [B, T, F] batch-first or [T, B, F] time-major
    lengths.npy              the sequence lengths [B] (i64; only for packed cases)
    h0.npy, c0.npy           the initial state [L * D, B, H] (only for cases with one)
    <param>.npy              every parameter under its PyTorch name (weight_ih_l0_reverse, ...)
    y.npy, hn.npy, cn.npy    output (0 at padded steps) and final state
    gy.npy, ghn.npy, gcn.npy fixed upstream gradients; the loss is sum(y * gy) + sum(hn * ghn)
                             + sum(cn * gcn)
    grad_<param>.npy, dx.npy, dh0.npy, dc0.npy   the gradients of that loss
and lists the cases in tests/golden_rnn/MANIFEST, one line each:
    name mode layers bidirectional batch_first bias input hidden packed has_init
tests/nn/test_golden_rnn.c loads the parameters into nabla's layers (the layout is PyTorch's one
to one: same names, shapes and gate order) and checks outputs and gradients to 1e-10. The
fixtures are committed; this script is run by hand when cases change, never by a test (CI has no
torch). Output is deterministic.
"""
import os
import shutil
import zlib

import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden_rnn")

# name, mode, layers, bidirectional, batch_first, bias, input, hidden, lengths (None: all T), T,
# B, has_init
CASES = [
    ("lstm_bi2_packed", "lstm", 2, True, True, True, 3, 4, [5, 2, 4, 1], 5, 4, True),
    ("gru_bi2_packed_tm", "gru", 2, True, False, True, 3, 4, [3, 5, 1], 5, 3, True),
    ("rnn_tanh_bi2_packed", "rnn_tanh", 2, True, True, True, 2, 3, [2, 4, 4, 3], 4, 4, False),
    ("rnn_relu_bi2_packed_tm", "rnn_relu", 2, True, False, True, 3, 3, [4, 1, 3], 4, 3, True),
    ("lstm_bi2_full_tm", "lstm", 2, True, False, True, 3, 4, None, 4, 2, False),
    ("gru_uni3_packed_nobias", "gru", 3, False, True, False, 2, 3, [1, 4, 2], 4, 3, True),
]


def build(mode, layers, bidir, batch_first, bias, n_in, hidden):
    kw = dict(num_layers=layers, bidirectional=bidir, batch_first=batch_first, bias=bias)
    if mode == "lstm":
        return torch.nn.LSTM(n_in, hidden, **kw)
    if mode == "gru":
        return torch.nn.GRU(n_in, hidden, **kw)
    return torch.nn.RNN(n_in, hidden, nonlinearity=mode[4:], **kw)


def save(folder, name, t):
    a = t.detach().numpy() if isinstance(t, torch.Tensor) else t
    np.save(os.path.join(folder, name + ".npy"), np.ascontiguousarray(a))


def run_case(case):
    name, mode, layers, bidir, bf, bias, n_in, hidden, lengths, T, B, has_init = case
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    folder = os.path.join(ROOT, name)
    os.makedirs(folder)
    torch.manual_seed(0)
    net = build(mode, layers, bidir, bf, bias, n_in, hidden).double()
    with torch.no_grad():
        for p_name, p in net.named_parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.6, 0.6, tuple(p.shape))))
    D = 2 if bidir else 1
    x = torch.from_numpy(rng.uniform(-1.0, 1.0, (B, T, n_in) if bf else (T, B, n_in)))
    x.requires_grad_(True)
    init = None
    state_shape = (layers * D, B, hidden)
    if has_init:
        h0 = torch.from_numpy(rng.uniform(-0.5, 0.5, state_shape)).requires_grad_(True)
        if mode == "lstm":
            c0 = torch.from_numpy(rng.uniform(-0.5, 0.5, state_shape)).requires_grad_(True)
            init = (h0, c0)
        else:
            init = h0
    if lengths is not None:
        packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=bf,
                                      enforce_sorted=False)
        out, state = net(packed, init)
        y, _ = pad_packed_sequence(out, batch_first=bf, total_length=T)
    else:
        y, state = net(x, init)
    hn, cn = state if mode == "lstm" else (state, None)
    gy = torch.from_numpy(rng.uniform(-1.0, 1.0, tuple(y.shape)))
    ghn = torch.from_numpy(rng.uniform(-1.0, 1.0, state_shape))
    loss = (y * gy).sum() + (hn * ghn).sum()
    if cn is not None:
        gcn = torch.from_numpy(rng.uniform(-1.0, 1.0, state_shape))
        loss = loss + (cn * gcn).sum()
    loss.backward()

    save(folder, "x", x)
    save(folder, "dx", x.grad)
    if lengths is not None:
        save(folder, "lengths", np.array(lengths, dtype=np.int64))
    if has_init:
        save(folder, "h0", h0)
        save(folder, "dh0", h0.grad)
        if mode == "lstm":
            save(folder, "c0", c0)
            save(folder, "dc0", c0.grad)
    for p_name, p in net.named_parameters():
        save(folder, p_name, p)
        save(folder, "grad_" + p_name, p.grad)
    save(folder, "y", y)
    save(folder, "gy", gy)
    save(folder, "hn", hn)
    save(folder, "ghn", ghn)
    if cn is not None:
        save(folder, "cn", cn)
        save(folder, "gcn", gcn)
    return "%s %s %d %d %d %d %d %d %d %d" % (name, mode, layers, int(bidir), int(bf), int(bias),
                                              n_in, hidden, int(lengths is not None),
                                              int(has_init))


def main():
    torch.set_num_threads(1)
    if os.path.isdir(ROOT):
        shutil.rmtree(ROOT)
    os.makedirs(ROOT)
    lines = [run_case(c) for c in CASES]
    with open(os.path.join(ROOT, "MANIFEST"), "w") as f:
        f.write("# name mode layers bidirectional batch_first bias input hidden packed has_init\n")
        f.write("# written by scripts/golden_rnn.py (PyTorch %s, float64)\n" %
                torch.__version__.split("a")[0])
        for line in lines:
            f.write(line + "\n")
    print("wrote %d cases to %s" % (len(lines), os.path.normpath(ROOT)))


if __name__ == "__main__":
    main()
