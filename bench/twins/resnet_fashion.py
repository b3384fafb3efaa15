"""PyTorch twin of examples/resnet_fashion.c: a residual network on Fashion-MNIST.

Stem conv 3x3 + BatchNorm + ReLU + max-pool -> 3 stages of --blocks residual blocks (W, 2W, 4W
channels, the first block of stages 2 and 3 with stride 2 and a projection shortcut) -> global
average pooling -> Linear -> 10 logits. SGD with Nesterov momentum 0.9 and weight decay, a linear
warm-up over the first epoch then a cosine decay to 0; random shifts and left-right flips.
Writes PREFIX_curves.csv (the C program also draws them as a PNG: skipped, no plotting library).

    /usr/bin/python3 bench/twins/resnet_fashion.py --epochs 1 --limit 256 --test-limit 256
"""
import argparse
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR
from torch.utils.data import DataLoader, TensorDataset

import images


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--blocks", type=int, default=1)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--wd", type=float, default=5e-4)
    p.add_argument("--shift", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--test-limit", type=int, default=0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--data")
    p.add_argument("--synthetic", action="store_true")
    p.add_argument("--out", default="resnet_fashion")
    p.add_argument("--check", action="store_true")
    return p.parse_args()


def conv(c_in, c_out, k, stride=1):
    return nn.Conv2d(c_in, c_out, k, stride, padding=k // 2, bias=False)  # BatchNorm follows


class Block(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.conv1, self.bn1 = conv(c_in, c_out, 3, stride), nn.BatchNorm2d(c_out)
        self.conv2, self.bn2 = conv(c_out, c_out, 3), nn.BatchNorm2d(c_out)
        self.proj = nn.Identity()
        if c_in != c_out or stride != 1:
            self.proj = nn.Sequential(conv(c_in, c_out, 1, stride), nn.BatchNorm2d(c_out))

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(h)) + self.proj(x))


def resnet(width, blocks):
    layers, c = [conv(1, width, 3), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2)], width
    for stage in range(3):
        for b in range(blocks):
            layers.append(Block(c, width << stage, 2 if stage > 0 and b == 0 else 1))
            c = width << stage
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 10))


def augment(x, shift):
    """Shift each image by up to `shift` pixels (a crop of the zero-padded image), flip half."""
    n, size = x.shape[0], x.shape[-1]
    padded = F.pad(x, (shift,) * 4)
    dy, dx = torch.randint(2 * shift + 1, (2, n)).tolist()
    out = torch.stack([padded[i, :, dy[i]:dy[i] + size, dx[i]:dx[i] + size] for i in range(n)])
    flip = torch.rand(n) < 0.5
    out[flip] = out[flip].flip(-1)
    return out


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    source, x, y, x_test, y_test = images.load(args)
    print("data: %s: %d training and %d test images" % (source, len(x), len(x_test)))
    loader = DataLoader(TensorDataset(x[:, None], y), batch_size=args.batch, shuffle=True,
                        drop_last=True)
    net = resnet(args.width, args.blocks)
    print(net)
    opt = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=0.9, nesterov=True,
                          weight_decay=args.wd)
    per_epoch = len(loader)
    total = per_epoch * args.epochs
    sched = SequentialLR(opt, [LinearLR(opt, 0.1, 1.0, per_epoch),
                               CosineAnnealingLR(opt, max(total - per_epoch, 1))], [per_epoch])
    print("SGD lr %g (warm-up over epoch 1 from %g, then cosine to 0 at step %d), Nesterov "
          "momentum 0.9, weight decay %g, batch %d, augmentation: shifts up to %d px and "
          "left-right flips, %d thread(s)" % (args.lr, 0.1 * args.lr, total, args.wd, args.batch,
                                              args.shift, args.threads))
    curves, first_loss, t_start = {}, None, time.time()
    for e in range(1, args.epochs + 1):
        net.train()
        t0, losses, correct = time.time(), [], 0
        for xb, yb in loader:
            logits = net(augment(xb, args.shift))
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
            correct += (logits.argmax(1) == yb).sum().item()
        first_loss = first_loss or losses[0]
        mean_loss, train_acc, t_train = sum(losses) / len(losses), correct / (
            len(losses) * args.batch), time.time() - t0
        acc = images.accuracy(net, x_test[:, None], y_test)
        print("epoch %2d: loss %.4f, train accuracy %.2f%% (augmented), test accuracy %.2f%%, "
              "%.1f s training + %.1f s test, %.1f s so far" % (
                  e, mean_loss, 100 * train_acc, 100 * acc, t_train, time.time() - t0 - t_train,
                  time.time() - t_start), flush=True)
        for name, v in (("train loss", mean_loss), ("train accuracy", train_acc),
                        ("test accuracy", acc)):
            curves.setdefault(name, []).append((e, v))
    print("final test accuracy %.2f%% on %d images after %d epoch(s), %.1f s in all" % (
        100 * acc, len(y_test), args.epochs, time.time() - t_start))
    images.save_curves(args.out + "_curves.csv", curves)
    print("wrote %s_curves.csv" % args.out)
    if args.check:
        ok = mean_loss < 0.5 * first_loss
        print("check: loss from %.4f (first batch) to %.4f (mean of the last epoch), below half: "
              "%s" % (first_loss, mean_loss, "ok" if ok else "FAILED"))
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
