"""Image data and grids shared by the PyTorch twins (the counterpart of examples/common/images.c
and the PNG grids of examples/common/unsup.c; torchvision, which would give both, is not
packaged with Debian's torch).

Fashion-MNIST comes from the IDX files in --data DIR, else $NB_FASHION_MNIST_DIR, else Debian's
dataset-fashion-mnist (/usr/share/datasets/fashion-mnist), the same search as the C examples;
--synthetic draws the same kind of stand-in images as ex_synthetic_images (10 classes of bars at
c * 18 degrees, shifted, over noise) from torch's generator instead of nb_rng.
"""
import gzip
import math
import os

import numpy as np
import torch
from PIL import Image

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"


def read_idx(directory, name):
    path = os.path.join(directory, name)
    if not os.path.exists(path):
        path += ".gz"
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return torch.from_numpy(np.frombuffer(data, np.uint8, -1, 4 + 4 * ndim).reshape(shape).copy())


def synthetic(n, seed):
    """n images [n, 28, 28] in [0, 1] and their classes."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(10, (n,), generator=g)
    dx, dy = torch.randint(-3, 4, (2, n, 1, 1), generator=g)
    angle = (y * math.pi / 10).view(n, 1, 1)
    r, k = torch.meshgrid(torch.arange(28.0) - 13.5, torch.arange(28.0) - 13.5, indexing="ij")
    u = (k - dx) * angle.cos() + (r - dy) * angle.sin()
    v = -(k - dx) * angle.sin() + (r - dy) * angle.cos()
    bar = ((v.abs() < 28 / 11 + 0.5) & (u.abs() < 28 * 0.36)) * 0.85
    return (bar + 0.3 * torch.rand(n, 28, 28, generator=g)).clamp(max=1), y


def load(args, test_limit=None):
    """(source, x_train, y_train, x_test, y_test): images [N, 28, 28] in [0, 1], classes [N];
    from args.data, args.synthetic, args.limit (and args.test_limit, or test_limit)."""
    limit = args.limit or None
    test_limit = test_limit or getattr(args, "test_limit", 0) or None
    if args.synthetic:
        return ("generated 28x28 images (--synthetic: 10 classes of bars)",
                *synthetic(limit or 2000, args.seed), *synthetic(test_limit or 500, args.seed + 1))
    d = args.data or os.environ.get("NB_FASHION_MNIST_DIR") or DEFAULT_DIR
    source = "MNIST-format files in " + d if args.data else "Fashion-MNIST"
    x, y, xt, yt = (read_idx(d, "%s-%s-idx%d-ubyte" % (split, kind, 3 if kind == "images" else 1))
                    for split in ("train", "t10k") for kind in ("images", "labels"))
    return (source, x[:limit].float() / 255, y[:limit].long(),
            xt[:test_limit].float() / 255, yt[:test_limit].long())


@torch.no_grad()
def accuracy(net, x, y):
    """Test accuracy of a classifier in eval mode, in batches of 500 (ex_classifier_accuracy)."""
    net.eval()
    return sum((net(xb).argmax(1) == yb).sum().item()
               for xb, yb in zip(x.split(500), y.split(500))) / len(y)


def save_grid(path, images, cols):
    """Write images [n, 28, 28] (values in [0, 1], n a multiple of cols) as one PNG grid."""
    rows = images.shape[0] // cols
    grid = images.view(rows, cols, 28, 28).permute(0, 2, 1, 3).reshape(rows * 28, cols * 28)
    Image.fromarray((grid.clamp(0, 1) * 255).byte().numpy()).resize(
        (cols * 56, rows * 56), Image.NEAREST).save(path)
    print("wrote %s" % path)


def save_curves(path, curves):
    """Write {series: [(x, y), ...]} as CSV "series,x,y", as nb_curves_write_csv."""
    with open(path, "w") as f:
        f.write("series,x,y\n" + "".join("%s,%g,%.9g\n" % (name, x, y)
                                          for name, points in curves.items() for x, y in points))
