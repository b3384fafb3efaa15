#!/usr/bin/python3
"""Golden fixtures for nb_weight_norm from PyTorch's torch.nn.utils.weight_norm, in float64.

    /usr/bin/python3 scripts/golden_weight_norm.py   (needs Debian's python3-torch, python3-numpy)

For each case it writes tests/nn/golden/weight_norm_<case>_<array>.npy:
    w, b      the layer's weight and bias before weight norm
    x, dy     an input and a cotangent for the output
    g, v      weight_g and weight_v right after weight_norm (g = ||w|| over the dims but `dim`)
    y         the layer's output with weight norm
    dg, dv, db, dx   gradients of sum(y * dy)
tests/nn/test_weight_norm.c builds the same layers with nabla, sets w and b, applies
nb_weight_norm and compares every array (1e-10 relative). Deterministic: fixed seeds. Run by hand
when cases change, never by a test (CI has no torch).
"""
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "nn", "golden")


def case(name, layer, x_shape, dim, seed):
    torch.manual_seed(seed)
    layer = layer.double()
    with torch.no_grad():
        for p in layer.parameters():
            p.uniform_(-1.0, 1.0)
    w = layer.weight.detach().clone()
    b = layer.bias.detach().clone()
    layer = torch.nn.utils.weight_norm(layer, name="weight", dim=dim)
    g = layer.weight_g.detach().clone()
    v = layer.weight_v.detach().clone()
    # move away from the initial point so that g and v both matter
    with torch.no_grad():
        layer.weight_g.mul_(1.5)
        layer.weight_v.add_(0.25)
    x = torch.empty(x_shape, dtype=torch.float64).uniform_(-1.0, 1.0).requires_grad_(True)
    y = layer(x)
    dy = torch.empty(y.shape, dtype=torch.float64).uniform_(-1.0, 1.0)
    (y * dy).sum().backward()
    arrays = {"w": w, "b": b, "x": x.detach(), "dy": dy, "g": g, "v": v, "y": y.detach(),
              "dg": layer.weight_g.grad, "dv": layer.weight_v.grad, "db": layer.bias.grad,
              "dx": x.grad}
    for k, a in arrays.items():
        np.save(os.path.join(OUT, "weight_norm_%s_%s.npy" % (name, k)), a.numpy())


def main():
    os.makedirs(OUT, exist_ok=True)
    case("linear_dim0", torch.nn.Linear(3, 4), (5, 3), 0, 1)
    case("linear_dim1", torch.nn.Linear(3, 4), (5, 3), 1, 2)
    case("linear_all", torch.nn.Linear(3, 4), (5, 3), None, 3)
    case("conv_dim0", torch.nn.Conv2d(2, 3, 3, padding=1), (2, 2, 4, 4), 0, 4)


if __name__ == "__main__":
    main()
