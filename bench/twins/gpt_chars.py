"""PyTorch twin of examples/gpt_chars.c: a small decoder-only Transformer trained as a character
language model (tied input/output embedding, learned positions, pre-norm causal layers with a
tanh-GELU MLP, AdamW on random windows, validation on fixed windows of the last 10 %, a sample
with temperature and top-k at the end).

    /usr/bin/python3 bench/twins/gpt_chars.py --layers 2 --d 64 --ctx 64 --steps 300
"""
import argparse
import sys

import torch
import torch.nn.functional as F
from torch import nn


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--text", default="/usr/share/common-licenses/GPL-3")
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--d", type=int, default=128)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--ctx", type=int, default=128)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--every", type=int, default=100)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--wd", type=float, default=0.01)
    p.add_argument("--samples", type=int, default=200)
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--top-k", type=int, default=10)
    p.add_argument("--target", type=float, default=3.0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--check", action="store_true")
    return p.parse_args()


class GPT(nn.Module):
    def __init__(self, vocab, d, heads, layers, ctx):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(ctx, d)
        nn.init.normal_(self.tok.weight, std=0.02)  # GPT-2's init: logits start near uniform
        nn.init.normal_(self.pos.weight, std=0.02)
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(d, heads, 4 * d, dropout=0.0, batch_first=True,
                                       norm_first=True, activation=nn.GELU(approximate="tanh"))
            for _ in range(layers))
        self.ln = nn.LayerNorm(d)

    def forward(self, x):
        T = x.shape[1]
        h = self.tok(x) + self.pos(torch.arange(T))
        mask = nn.Transformer.generate_square_subsequent_mask(T)
        for layer in self.layers:
            h = layer(h, src_mask=mask)
        return self.ln(h) @ self.tok.weight.T  # weight tying


def windows(ids, lo, hi, B, T, random):
    """B windows of T characters in ids[lo:hi] (random or evenly spaced) and their successors."""
    span = hi - lo - T - 1
    starts = (torch.randint(span, (B,)) if random
              else torch.tensor([span * b // max(B - 1, 1) for b in range(B)])) + lo
    idx = starts[:, None] + torch.arange(T)
    return ids[idx], ids[idx + 1]


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    data = open(args.text, "rb").read()
    chars = sorted(set(data))
    index = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([index[c] for c in data])
    n_train, V = len(ids) * 9 // 10, len(chars)
    model = GPT(V, args.d, args.heads, args.layers, args.ctx)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.wd)
    print("gpt_chars: %d characters (vocabulary %d), %d layers, d %d, %d heads, context %d, "
          "%d parameters" % (len(ids), V, args.layers, args.d, args.heads, args.ctx,
                             sum(p.numel() for p in model.parameters())))

    B, T = args.batch, args.ctx
    train_loss, n_loss, val = 0.0, 0, float("nan")
    for it in range(1, args.steps + 1):
        x, y = windows(ids, 0, n_train, B, T, random=True)
        loss = F.cross_entropy(model(x).view(-1, V), y.view(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        train_loss, n_loss = train_loss + loss.item(), n_loss + 1
        if it % args.every == 0 or it == args.steps:
            model.eval()
            with torch.no_grad():
                x, y = windows(ids, n_train, len(ids), B, T, random=False)
                val = F.cross_entropy(model(x).view(-1, V), y.view(-1)).item()
            model.train()
            print("step %5d  train %.4f  val %.4f nats/char" % (it, train_loss / n_loss, val),
                  flush=True)
            train_loss, n_loss = 0.0, 0

    if args.samples > 0:  # prompt: the first ctx characters of the validation text
        window, out = ids[n_train:n_train + T], []
        model.eval()
        with torch.no_grad():
            for _ in range(args.samples):
                logits = model(window[None])[0, -1] / args.temperature
                if args.top_k > 0:
                    kth = logits.topk(min(args.top_k, V)).values[-1]
                    logits = logits.masked_fill(logits < kth, float("-inf"))
                pick = torch.multinomial(logits.softmax(-1), 1)
                out.append(chars[pick.item()])
                window = torch.cat([window[1:], pick])
        print('sample (temperature %.2f, top-%d): "%s"' % (
            args.temperature, args.top_k, bytes(out).decode("latin-1").replace("\n", " ")))
    ok = val < args.target
    if args.check:
        print("check: validation loss %.4f %s %.4f: %s" % (
            val, "<" if ok else ">=", args.target, "passed" if ok else "FAILED"))
    sys.exit(1 if args.check and not ok else 0)


if __name__ == "__main__":
    main()
