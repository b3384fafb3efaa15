"""PyTorch twin of examples/seq2seq_attention.c: an encoder-decoder with attention that learns to
reverse (or sort) strings of digits generated from a seeded generator.

Encoder: digit embedding -> bidirectional GRU over the padded batch (packed by length). Decoder:
a GRU cell fed the previous token and the previous attention context, started from the encoder's
two final states; Luong's "general" attention (scores enc_j . W_a s, padding masked); output
W_o tanh(W_c [s; context]) over the 10 digits and end-of-string. Teacher forcing, Adam, gradient
clipping; greedy decoding on a fixed test set, a string right only when all of it is. Writes
PREFIX_attention.png (attention weights of four test strings; no title or caption).

    /usr/bin/python3 bench/twins/seq2seq_attention.py --max-len 6 --steps 300 --batch 32 \
        --hidden 32 --test 200
"""
import argparse
import sys
from collections import namedtuple

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

BOS = EOS = 10
Batch = namedtuple("Batch", "src lens pad dec_in tgt valid")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--task", choices=("reverse", "sort"), default="reverse")
    p.add_argument("--min-len", type=int, default=3)
    p.add_argument("--max-len", type=int, default=10)
    p.add_argument("--steps", type=int, default=1200)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--every", type=int, default=200)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--embed", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--test", type=int, default=500)
    p.add_argument("--show", type=int, default=6)
    p.add_argument("--out", default="seq2seq")
    p.add_argument("--target", type=float, default=0.9)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--check", action="store_true")
    return p.parse_args()


def make_batch(B, min_len, max_len, sort, generator=None):
    """B strings of min_len..max_len digits; targets reversed or sorted, then EOS."""
    lens = torch.randint(min_len, max_len + 1, (B,), generator=generator)
    pad = torch.arange(max_len) >= lens[:, None]
    src = torch.randint(10, (B, max_len), generator=generator).masked_fill(pad, 0)
    if sort:
        body = src.masked_fill(pad, EOS).sort(1).values
    else:
        body = src.gather(1, (lens[:, None] - 1 - torch.arange(max_len)).clamp(min=0))
        body = body.masked_fill(pad, EOS)
    tgt = torch.cat([body, torch.full((B, 1), EOS)], 1)
    dec_in = torch.cat([torch.full((B, 1), BOS), tgt[:, :-1]], 1)
    return Batch(src, lens, pad, dec_in, tgt, torch.arange(max_len + 1) <= lens[:, None])


class Seq2Seq(nn.Module):
    def __init__(self, E, H):
        super().__init__()
        self.src_emb, self.tgt_emb = nn.Embedding(10, E), nn.Embedding(11, E)
        self.enc = nn.GRU(E, H, batch_first=True, bidirectional=True)
        self.dec = nn.GRUCell(E + 2 * H, 2 * H)
        self.attn = nn.Linear(2 * H, 2 * H, bias=False)
        self.comb = nn.Linear(4 * H, 2 * H)
        self.out = nn.Linear(2 * H, 11)

    def encode(self, b):
        """Encoder outputs [B, S, 2H]; the decoder's first state [B, 2H] (forward | backward)."""
        packed = pack_padded_sequence(self.src_emb(b.src), b.lens, batch_first=True,
                                      enforce_sorted=False)
        out, h = self.enc(packed)
        enc, _ = pad_packed_sequence(out, batch_first=True, total_length=b.src.shape[1])
        return enc, torch.cat([h[0], h[1]], 1)

    def step(self, tokens, s, ctx, enc, pad):
        """One decoder step: logits [B, 11], new state and context, attention weights [B, S]."""
        s = self.dec(torch.cat([self.tgt_emb(tokens), ctx], 1), s)
        scores = (enc @ self.attn(s)[:, :, None]).squeeze(2)
        a = scores.masked_fill(pad, float("-inf")).softmax(1)
        ctx = (a[:, None] @ enc).squeeze(1)
        return self.out(torch.tanh(self.comb(torch.cat([s, ctx], 1)))), s, ctx, a

    def loss(self, b):
        """Teacher-forced mean cross-entropy over the valid target steps."""
        enc, s = self.encode(b)
        ctx, total = torch.zeros_like(s), 0
        for t in range(b.tgt.shape[1]):
            logits, s, ctx, _ = self.step(b.dec_in[:, t], s, ctx, enc, b.pad)
            total = total + (F.cross_entropy(logits, b.tgt[:, t], reduction="none")
                             * b.valid[:, t]).sum()
        return total / b.valid.sum()

    @torch.no_grad()
    def greedy(self, b):
        """Predictions [B, T], attention [B, T, S] and which strings came out exactly right."""
        enc, s = self.encode(b)
        ctx, tokens, preds, attn = torch.zeros_like(s), torch.full_like(b.lens, BOS), [], []
        for _ in range(b.tgt.shape[1]):
            logits, s, ctx, a = self.step(tokens, s, ctx, enc, b.pad)
            tokens = logits.argmax(1)
            preds.append(tokens)
            attn.append(a)
        pred = torch.stack(preds, 1)
        return pred, torch.stack(attn, 1), ((pred == b.tgt) | ~b.valid).all(1)


def show(model, b, n_show, path):
    """Print sample translations; write the attention weights of four strings as a PNG."""
    pred, attn, right = model.greedy(b)
    for i in range(min(n_show, len(b.lens))):
        n = b.lens[i]
        n_pred = (pred[i].tolist() + [EOS]).index(EOS)
        print("  %s -> %s  (expected %s) %s" % (
            "".join(map(str, b.src[i, :n].tolist())), "".join(map(str, pred[i, :n_pred].tolist())),
            "".join(map(str, b.tgt[i, :n].tolist())), "right" if right[i] else "WRONG"))
    img = torch.cat([attn[i] * b.valid[i, :, None] * ~b.pad[i] for i in range(4)], 1)
    Image.fromarray((img * 255).byte().numpy()).resize(
        (img.shape[1] * 16, img.shape[0] * 16), Image.NEAREST).save(path)
    print("wrote %s" % path)


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    sort = args.task == "sort"
    model = Seq2Seq(args.embed, args.hidden)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    print("seq2seq_attention: %s strings of %d-%d digits; encoder %s, decoder GRUCell(%d -> %d), "
          "%d parameters" % (args.task, args.min_len, args.max_len, model.enc,
                             args.embed + 2 * args.hidden, 2 * args.hidden,
                             sum(p.numel() for p in model.parameters())))
    test = make_batch(args.test, args.min_len, args.max_len, sort,
                      torch.Generator().manual_seed(args.seed ^ 0x5EED))
    run_loss, n_loss, acc = 0.0, 0, 0.0
    for it in range(1, args.steps + 1):
        loss = model.loss(make_batch(args.batch, args.min_len, args.max_len, sort))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        run_loss, n_loss = run_loss + loss.item(), n_loss + 1
        if it % args.every == 0 or it == args.steps:
            acc = model.greedy(test)[2].float().mean().item()
            print("step %5d  loss %.4f  test sequence accuracy %.1f %%" % (
                it, run_loss / n_loss, 100 * acc), flush=True)
            run_loss, n_loss = 0.0, 0
    print("test strings (greedy decoding):")
    show(model, test, args.show, args.out + "_attention.png")
    ok = acc >= args.target
    if args.check:
        print("check: test sequence accuracy %.3f %s %.3f: %s" % (
            acc, ">=" if ok else "<", args.target, "passed" if ok else "FAILED"))
    sys.exit(1 if args.check and not ok else 0)


if __name__ == "__main__":
    main()
