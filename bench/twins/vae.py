"""PyTorch twin of examples/vae.c: a variational autoencoder on Fashion-MNIST.

Encoder 784-H-2Z (mu and log sigma^2), reparameterised sample z = mu + sigma * eps, decoder
Z-H-784 (logits of a Bernoulli per pixel on the grey values); loss: the negative ELBO
(reconstruction + closed-form KL to N(0, I)) in nats per image; Adam. Writes
PREFIX_recon.png (test images over their reconstructions), PREFIX_samples.png (64 samples from
the prior), PREFIX_latent_map.png (15 x 15 codes at the prior's quantiles 0.05..0.95 in the two
dimensions of largest mean KL) and PREFIX_curves.csv; the C program's titles and captions on the
PNGs and its PNG of the curves are left out (no plotting library).

    /usr/bin/python3 bench/twins/vae.py --epochs 1 --limit 256 --test-limit 256
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
    p.add_argument("--latent", type=int, default=10)
    p.add_argument("--hidden", type=int, default=400)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--test-limit", type=int, default=0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--data")
    p.add_argument("--synthetic", action="store_true")
    p.add_argument("--out", default="vae")
    p.add_argument("--check", action="store_true")
    p.add_argument("--check-ratio", type=float, default=0.8)
    return p.parse_args()


class VAE(nn.Module):
    def __init__(self, hidden, latent):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(784, hidden), nn.ReLU(),
                                     nn.Linear(hidden, 2 * latent))
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(),
                                     nn.Linear(hidden, 784))

    def encode(self, x):
        return self.encoder(x).chunk(2, 1)  # mu, log sigma^2

    def forward(self, x):  # reconstruction: pixel means at z = mu
        return torch.sigmoid(self.decoder(self.encode(x)[0]))

    def neg_elbo(self, x, generator=None):
        """Negative ELBO per image (mean over the batch) with one sample, and its KL part."""
        mu, logvar = self.encode(x)
        z = mu + (0.5 * logvar).exp() * torch.randn(mu.shape, generator=generator)
        rec = F.binary_cross_entropy_with_logits(self.decoder(z), x, reduction="sum")
        kl = -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum()
        return (rec + kl) / len(x), kl.item() / len(x)


@torch.no_grad()
def test_neg_elbo(vae, x, seed):
    """Test negative ELBO and KL (nats per image), the noise reseeded: same weights, same value."""
    generator = torch.Generator().manual_seed(seed + 7)
    vae.eval()
    parts = [(len(xb), *vae.neg_elbo(xb, generator)) for xb in x.split(500)]
    vae.train()
    return (sum(n * l.item() for n, l, _ in parts) / len(x),
            sum(n * kl for n, _, kl in parts) / len(x))


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    source, x, _, x_test, _ = images.load(args)
    x, x_test = x.view(-1, 784), x_test.view(-1, 784)
    print("data: %s, %d training and %d test images" % (source, len(x), len(x_test)))
    vae = VAE(args.hidden, args.latent)
    print(vae)
    opt = torch.optim.Adam(vae.parameters(), lr=args.lr)
    loader = DataLoader(x, batch_size=args.batch, shuffle=True)
    print("Adam lr %g, batch %d, latent dimensions %d, %d thread(s); likelihood: Bernoulli on "
          "the pixel intensities; eps from torch.manual_seed(%d)" % (
              args.lr, args.batch, args.latent, args.threads, args.seed))
    before, kl = test_neg_elbo(vae, x_test, args.seed)
    print("test negative ELBO before training: %.2f nats per image (KL %.2f)" % (before, kl))
    after, curves, t0 = before, {"train -ELBO": [], "test -ELBO": []}, time.time()
    for e in range(1, args.epochs + 1):
        losses = []
        for xb in loader:
            loss, _ = vae.neg_elbo(xb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        train = sum(losses) / len(losses)
        after, kl = test_neg_elbo(vae, x_test, args.seed)
        print("epoch %2d: train -ELBO %.2f, test -ELBO %.2f nats per image (reconstruction "
              "%.2f + KL %.2f), %.1f s so far" % (e, train, after, after - kl, kl,
                                                  time.time() - t0), flush=True)
        curves["train -ELBO"].append((e, train))
        curves["test -ELBO"].append((e, after))
    print("test negative ELBO: %.2f nats per image after %d epoch(s) (%.2f before), %.1f s" % (
        after, args.epochs, before, time.time() - t0))
    images.save_curves(args.out + "_curves.csv", curves)
    print("wrote %s_curves.csv" % args.out)

    vae.eval()
    with torch.no_grad():
        images.save_grid(args.out + "_recon.png",
                         torch.cat([x_test[:12], vae(x_test[:12])]).view(-1, 28, 28), 12)
        z = torch.randn(64, args.latent, generator=torch.Generator().manual_seed(args.seed + 99))
        images.save_grid(args.out + "_samples.png",
                         torch.sigmoid(vae.decoder(z)).view(-1, 28, 28), 8)
        dims = [0, 1]
        if args.latent > 2:  # the two most used dimensions: largest mean KL on the test set
            mu, logvar = vae.encode(x_test)
            kl = (-0.5 * (1 + logvar - mu ** 2 - logvar.exp())).mean(0)
            print("mean KL per latent dimension on the test set (nats): "
                  + " ".join("%.2f" % k for k in kl))
            dims = kl.topk(2).indices.tolist()
        q = torch.distributions.Normal(0, 1).icdf(torch.linspace(0.05, 0.95, 15))
        z = torch.zeros(15, 15, args.latent)
        z[:, :, dims[0]] = q  # x: first dimension, y: second (up = larger)
        z[:, :, dims[1]] = q.flip(0)[:, None]
        images.save_grid(args.out + "_latent_map.png",
                         torch.sigmoid(vae.decoder(z.view(-1, args.latent))).view(-1, 28, 28), 15)
    if args.check:
        ok = after < args.check_ratio * before
        print("check: test -ELBO %.2f < %.2f x %.2f: %s" % (
            after, args.check_ratio, before, "ok" if ok else "FAILED"))
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
