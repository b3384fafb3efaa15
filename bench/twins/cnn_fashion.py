"""PyTorch twin of examples/cnn_fashion.c: a small CNN on Fashion-MNIST, and its time to accuracy.

Conv2d 1->32 3x3 pad 1 -> ReLU -> MaxPool 2 -> Conv2d 32->64 3x3 pad 1 -> ReLU -> MaxPool 2 ->
Flatten 3136 -> Linear 128 -> ReLU -> Linear 10; the initialisation of nabla's Conv2d and Linear
(PyTorch's default, written out: weights Kaiming-uniform with a = sqrt(5) over the fan-in, i.e.
uniform in +-1/sqrt(fan_in), biases uniform in +-1/sqrt(fan_in); the same scheme, not the same
numbers). Mean cross-entropy, Adam (lr 0.001, betas 0.9 / 0.999, eps 1e-8) or --sgd (momentum
0.9, lr 0.01), minibatches of 64 with a smaller last batch kept, pixels / 255; the test set is
evaluated after each epoch in batches of 500.

--order-in FILE reads the .npy that `cnn_fashion --order-out FILE` writes (int64 [epochs, N]:
row e is epoch e+1's order of the training images) and cuts the batches from it, so both
programs see the same batches in the same order; without it each epoch is a torch.randperm.
--init-in DIR loads the initial parameters that `cnn_fashion --init-out DIR` writes
(DIR/0.weight.npy, ..., 9.bias.npy), so both programs also start from the same weights.
--target-accuracy A stops after the first epoch whose test accuracy is >= A and prints
"target: ... in S s": wall-clock seconds from before reading the data to the end of that
evaluation (reading and scaling the data, the initialisation, training and every evaluation;
not the interpreter's start-up and imports, not reading --order-in or --init-in), as the C
program counts.

    /usr/bin/python3 bench/twins/cnn_fashion.py --epochs 1 --limit 1024 --test-limit 500
    build-rel/examples/cnn_fashion --target-accuracy 0.9 --epochs 6 --order-out /tmp/o.npy
    /usr/bin/python3 bench/twins/cnn_fashion.py --target-accuracy 0.9 --epochs 6 \\
        --order-in /tmp/o.npy
"""
import argparse
import math
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import images


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=3, help="training epochs (the maximum with "
                   "--target-accuracy)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=0, help="0: 0.001 for Adam, 0.01 for --sgd")
    p.add_argument("--sgd", action="store_true", help="SGD with momentum 0.9 instead of Adam")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--test-limit", type=int, default=0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--data")
    p.add_argument("--synthetic", action="store_true")
    p.add_argument("--target-accuracy", type=float, default=0)
    p.add_argument("--order-in", help="the .npy of cnn_fashion --order-out")
    p.add_argument("--init-in", help="the directory of cnn_fashion --init-out")
    p.add_argument("--out", default="cnn_fashion")
    p.add_argument("--check", action="store_true")
    return p.parse_args()


def cnn():
    net = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
    for m in net:
        if isinstance(m, (nn.Conv2d, nn.Linear)):  # nn/conv_layers.c, nn/linear.c
            nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5))
            bound = 1 / math.sqrt(m.weight[0].numel())
            nn.init.uniform_(m.bias, -bound, bound)
    return net


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    t_start = time.time()
    source, x, y, x_test, y_test = images.load(args)
    x, x_test = x[:, None], x_test[:, None]
    t_data = time.time() - t_start
    n = len(x)
    print("data: %s: %d training and %d test images" % (source, n, len(x_test)))
    order, t_excluded = None, 0.0
    if args.order_in:
        t0 = time.time()
        order = torch.from_numpy(np.load(args.order_in))
        t_excluded = time.time() - t0
        if order.dim() != 2 or order.shape[1] != n or order.shape[0] < args.epochs:
            sys.exit("cnn_fashion.py: --order-in %s: shape %s, wanted [>= %d, %d]" % (
                args.order_in, list(order.shape), args.epochs, n))
        print("batch order: %s (%d epochs of %d)" % (args.order_in, order.shape[0], n))
    net = cnn()
    if args.init_in:
        t0 = time.time()
        want = net.state_dict()
        loaded = {}
        for name, t in want.items():
            try:
                a = np.load("%s/%s.npy" % (args.init_in, name))
            except (OSError, ValueError) as err:
                sys.exit("cnn_fashion.py: --init-in %s: %s" % (args.init_in, err))
            if tuple(a.shape) != tuple(t.shape):
                sys.exit("cnn_fashion.py: --init-in %s: %s has shape %s, wanted %s" % (
                    args.init_in, name, list(a.shape), list(t.shape)))
            loaded[name] = torch.from_numpy(a.astype(np.float32))
        net.load_state_dict(loaded)
        t_excluded += time.time() - t0
        print("initial parameters: %s" % args.init_in)
    lr = args.lr or (0.01 if args.sgd else 0.001)
    opt = (torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9) if args.sgd else
           torch.optim.Adam(net.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8))
    print("optimizer: %s, lr %g%s, batch %d, %d thread(s)" % (
        "SGD" if args.sgd else "Adam", lr, ", momentum 0.9" if args.sgd else "", args.batch,
        args.threads))
    first_loss, reached, acc, e, train_time, eval_time = None, False, float("nan"), 0, 0.0, 0.0
    for e in range(1, args.epochs + 1):
        net.train()
        t0, losses, correct = time.time(), [], 0
        perm = order[e - 1] if order is not None else torch.randperm(n)
        for idx in perm.split(args.batch):
            xb, yb = x[idx], y[idx]
            logits = net(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            correct += (logits.argmax(1) == yb).sum().item()
        first_loss = first_loss or losses[0]
        mean_loss, t_train = sum(losses) / len(losses), time.time() - t0
        t1 = time.time()
        acc = images.accuracy(net, x_test, y_test)
        train_time, eval_time = train_time + t_train, eval_time + time.time() - t1
        print("epoch %d: loss %.4f, train accuracy %.2f%%, test accuracy %.2f%%, %.1f s "
              "(%.0f images/s)" % (e, mean_loss, 100 * correct / n, 100 * acc, t_train,
                                   n / t_train), flush=True)
        if args.target_accuracy > 0 and acc >= args.target_accuracy:
            reached = True
            print("target: test accuracy %.2f%% >= %.2f%% after epoch %d in %.2f s (from before "
                  "reading the data to the end of that evaluation; %.2f s reading the order file "
                  "and initial weights excluded)" % (100 * acc, 100 * args.target_accuracy, e,
                                 time.time() - t_start - t_excluded, t_excluded))
            print("target: of which %.2f s reading the data, %.2f s training, %.2f s evaluating"
                  % (t_data, train_time, eval_time), flush=True)
            break
    if args.target_accuracy > 0 and not reached:
        print("target: test accuracy %.2f%% not reached in %d epoch(s) (last %.2f%%)" % (
            100 * args.target_accuracy, args.epochs, 100 * acc))
    print("final test accuracy %.2f%% after %d epoch(s)" % (100 * acc, e))
    print("loss: first batch %.4f, last epoch mean %.4f" % (first_loss, mean_loss))
    rc = 0
    if args.check:
        ok = mean_loss < first_loss
        print("check: loss dropped from %.4f to %.4f: %s" % (first_loss, mean_loss,
                                                              "ok" if ok else "FAILED"))
        rc = 0 if ok else 1
    if args.target_accuracy > 0 and not reached:
        rc = 1
    sys.exit(rc)


if __name__ == "__main__":
    main()
