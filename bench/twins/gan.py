"""PyTorch twin of examples/gan.c: a generative adversarial network of two MLPs on Fashion-MNIST.

Generator Z-H-784 (sigmoid), discriminator 784-H-1 (logit), LeakyReLU 0.2; per minibatch one
discriminator step on bce(D(x), 1) + bce(D(G(z)), 0) and one generator step on the
non-saturating loss bce(D(G(z')), 1), Adam (lr 2e-4, beta1 0.5) for each. Writes
PREFIX_progress.png (10 fixed codes decoded after each epoch, one row per epoch),
PREFIX_samples.png (64 samples) and PREFIX_curves.csv (the C program's titles, labels and PNG of
the curves are left out: no plotting library). --check: the mean generated image must approach
the data's without collapse.

    /usr/bin/python3 bench/twins/gan.py --epochs 1 --limit 256
"""
import argparse
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

import images


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--latent", type=int, default=64)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--data")
    p.add_argument("--synthetic", action="store_true")
    p.add_argument("--out", default="gan")
    p.add_argument("--check", action="store_true")
    p.add_argument("--check-ratio", type=float, default=0.5)
    return p.parse_args()


def mlp(n_in, hidden, n_out, *tail):
    return nn.Sequential(nn.Linear(n_in, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, n_out),
                         *tail)


def compare(a, b):
    """RMS distance between the mean images of a and b; mean per-pixel standard deviation of a."""
    dist = ((a.mean(0) - b.mean(0)) ** 2).mean().sqrt()
    return dist.item(), a.std(0, unbiased=False).mean().item()


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    source, x, _, _, _ = images.load(args, test_limit=500)
    x = x.view(-1, 784)
    print("data: %s, %d training images" % (source, len(x)))
    gen, dis = mlp(args.latent, args.hidden, 784, nn.Sigmoid()), mlp(784, args.hidden, 1)
    og = torch.optim.Adam(gen.parameters(), lr=args.lr, betas=(0.5, 0.999))
    od = torch.optim.Adam(dis.parameters(), lr=args.lr, betas=(0.5, 0.999))
    loader = DataLoader(x, batch_size=args.batch, shuffle=True, drop_last=True)
    print("generator %d -> %d -> 784, discriminator 784 -> %d -> 1 (%d + %d parameters); "
          "Adam lr %g, beta1 0.5, batch %d, %d thread(s)" % (
              args.latent, args.hidden, args.hidden, sum(p.numel() for p in gen.parameters()),
              sum(p.numel() for p in dis.parameters()), args.lr, args.batch, args.threads))
    real, eval_gen = x[:500], torch.Generator().manual_seed(args.seed + 2)
    with torch.no_grad():
        dist0, spread0 = compare(gen(torch.randn(500, args.latent, generator=eval_gen)), real)
        fixed = torch.Generator().manual_seed(args.seed + 3)
        z_fixed = torch.randn(10, args.latent, generator=fixed)
        rows = [gen(z_fixed)]
    spread_data = compare(real, real)[1]
    print("before training: distance of the mean images %.4f, sample spread %.4f (data %.4f)" % (
        dist0, spread0, spread_data))
    names = ("D loss", "G loss", "mean D(real)", "mean D(G(z))")
    curves, t0 = {name: [] for name in names}, time.time()
    for e in range(1, args.epochs + 1):
        sums = torch.zeros(4)
        for xb in loader:
            fake = gen(torch.randn(len(xb), args.latent)).detach()
            dr, df = dis(xb), dis(fake)
            ld = (F.binary_cross_entropy_with_logits(dr, torch.ones_like(dr))
                  + F.binary_cross_entropy_with_logits(df, torch.zeros_like(df)))
            od.zero_grad()
            ld.backward()
            od.step()
            dg = dis(gen(torch.randn(len(xb), args.latent)))
            lg = F.binary_cross_entropy_with_logits(dg, torch.ones_like(dg))
            og.zero_grad()
            lg.backward()
            og.step()  # D's gradients from this pass are zeroed before its next step
            sums += torch.tensor([ld.item(), lg.item(), dr.sigmoid().mean(), df.sigmoid().mean()])
        means = (sums / len(loader)).tolist()
        print("epoch %2d: D loss %.3f, G loss %.3f, D(real) %.3f, D(G(z)) %.3f, %.1f s so far" % (
            e, *means, time.time() - t0), flush=True)
        for name, v in zip(names, means):
            curves[name].append((e, v))
        with torch.no_grad():
            rows.append(gen(z_fixed))
    images.save_grid(args.out + "_progress.png", torch.cat(rows).view(-1, 28, 28), 10)
    with torch.no_grad():
        fake = gen(torch.randn(500, args.latent, generator=eval_gen))
    images.save_grid(args.out + "_samples.png", fake[:64].view(-1, 28, 28), 8)
    images.save_curves(args.out + "_curves.csv", curves)
    print("wrote %s_curves.csv" % args.out)
    dist, spread = compare(fake, real)
    print("after training: distance of the mean images %.4f (%.4f before), sample spread %.4f "
          "(data %.4f), %.1f s" % (dist, dist0, spread, spread_data, time.time() - t0))
    if args.check:
        ok = dist < args.check_ratio * dist0 and spread > 0.25 * spread_data
        print("check: distance %.4f < %.2f x %.4f and spread %.4f > 0.25 x %.4f: %s" % (
            dist, args.check_ratio, dist0, spread, spread_data, "ok" if ok else "FAILED"))
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
