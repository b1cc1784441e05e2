"""The grokking MLP of grokwatch's own trainer, in PyTorch, streamed to grokwatch.

    f(x) = (1/H) W2 ((W1 x / sqrt(2p))^2)

on one-hot inputs x = concat(one_hot(a), one_hot(b)) [N, 2p], W1 = net.0.weight [H, 2p],
W2 = net.3.weight [p, H], no biases. It mirrors trainer/src/main/java/io/grokwatch/trainer/
ModularAdditionTask.java: W1 and W2 drawn N(0, 1); MSE on one-hot targets averaged over all N_train * p
entries; full-batch AdamW, betas (0.9, 0.999), eps 1e-8; defaults p 29, H 512, train fraction 0.7,
lr 0.05, weight decay 0.01, 500 epochs; trained in float64 like the Java trainer. The split is a seeded
permutation whose first floor(p^2 * fraction) entries train, as in Java, but drawn from torch's generator,
so the same seed picks different pairs than the Java trainer does.

With --out DIR: DIR/model.onnx (exported once, from a float32 copy), DIR/probes.safetensors (all p^2
one-hot inputs, float32, row a*p + b) and DIR/step-<epoch>.safetensors every --checkpoint-every epochs;
also DIR/model.json, the same model as a grokwatch.model/v1 description, which grokwatch reads without the
ONNX importer (see README.md).
"""

import argparse
import copy
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grokwatch_torch as gt  # noqa: E402


class Scale(nn.Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor


class Square(nn.Module):
    def forward(self, x):
        return x * x


class ModAddMLP(nn.Module):
    def __init__(self, p, width=512):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(2 * p, width, bias=False),   # net.0.weight [H, 2p]
            Scale(1.0 / math.sqrt(2.0 * p)),        # net.1
            Square(),                               # net.2
            nn.Linear(width, p, bias=False),        # net.3.weight [p, H]
            Scale(1.0 / width),                     # net.4
        )
        for layer in (self.net[0], self.net[3]):
            nn.init.normal_(layer.weight, mean=0.0, std=1.0)

    def forward(self, x):
        return self.net(x)


def model_description(p, width):
    """The model as grokwatch's own description (grokwatch.model/v1; ModelDescription.modularAddition)."""
    return {"format": "grokwatch.model/v1", "inputs": 2 * p, "ops": [
        {"op": "linear", "weight": "net.0.weight"}, {"op": "scale", "factor": 1.0 / math.sqrt(2.0 * p)},
        {"op": "square"}, {"op": "linear", "weight": "net.3.weight"}, {"op": "scale", "factor": 1.0 / width}]}


def all_pairs(p, dtype=torch.float64):
    """One-hot inputs [p^2, 2p] in grokwatch's order (row a*p + b, as ModularAddition.inputs) and labels."""
    a = torch.arange(p).repeat_interleave(p)
    b = torch.arange(p).repeat(p)
    x = torch.zeros(p * p, 2 * p, dtype=dtype)
    rows = torch.arange(p * p)
    x[rows, a] = 1.0
    x[rows, p + b] = 1.0
    return x, (a + b) % p


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--p", type=int, default=29, help="modulus (default 29)")
    ap.add_argument("--width", type=int, default=512, help="hidden width H (default 512)")
    ap.add_argument("--seed", type=int, default=0, help="seeds the split and the N(0, 1) initialisation")
    ap.add_argument("--epochs", type=int, default=500, help="full-batch epochs (default 500)")
    ap.add_argument("--lr", type=float, default=0.05, help="AdamW learning rate (default 0.05)")
    ap.add_argument("--weight-decay", type=float, default=0.01, help="AdamW weight decay (default 0.01)")
    ap.add_argument("--train-fraction", type=float, default=0.7, help="fraction of pairs trained on (default 0.7)")
    ap.add_argument("--threads", type=int, help="torch.set_num_threads")
    ap.add_argument("--out", help="directory for model.onnx, probes.safetensors and step-<n>.safetensors")
    ap.add_argument("--keep-open", action="store_true",
                    help="do not write DIR/run-finished at the end (more checkpoints will follow into --out)")
    ap.add_argument("--checkpoint-every", type=int, default=10,
                    help="evaluate, print and (with --out) save a checkpoint every K epochs (default 10)")
    ap.add_argument("--float64-checkpoints", action="store_true", help="save checkpoint weights as float64")
    args = ap.parse_args(argv)
    if not 0 < args.train_fraction < 1:
        ap.error(f"--train-fraction must be in (0, 1), got {args.train_fraction}")
    if args.threads:
        torch.set_num_threads(args.threads)

    p = args.p
    gen = torch.Generator().manual_seed(args.seed)
    x, labels = all_pairs(p)
    n = p * p
    n_train = int(math.floor(n * args.train_fraction))
    perm = torch.randperm(n, generator=gen)
    train_idx, test_idx = perm[:n_train], perm[n_train:]
    targets = torch.nn.functional.one_hot(labels, p).double()
    train_x, train_t = x[train_idx], targets[train_idx]

    torch.manual_seed(args.seed)
    model = ModAddMLP(p, args.width).double()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay,
                                  betas=(0.9, 0.999), eps=1e-8)

    writer = None
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        probes = x.float()
        gt.export_onnx(copy.deepcopy(model).float(), probes[:2], os.path.join(args.out, "model.onnx"),
                       input_name="x")
        train_mask = torch.zeros(n, dtype=torch.int64)
        train_mask[train_idx] = 1
        gt.save_probes(os.path.join(args.out, "probes.safetensors"), probes, name="x", train=train_mask,
                       labels=labels)
        with open(os.path.join(args.out, "model.json"), "w") as f:
            json.dump(model_description(p, args.width), f, indent=1)
            f.write("\n")
        writer = gt.CheckpointWriter(args.out, torch.float64 if args.float64_checkpoints else torch.float32)

    print(f"p={p} width={args.width} seed={args.seed} lr={args.lr} weight_decay={args.weight_decay} "
          f"train_fraction={args.train_fraction}: {n_train} training pairs, {n - n_train} test pairs", flush=True)
    start = time.perf_counter()

    def evaluate(epoch):
        with torch.no_grad():
            out = model(x)
        sq = ((out - targets) ** 2).mean(dim=1)
        correct = (out.argmax(dim=1) == labels).double()
        tr_loss, te_loss = sq[train_idx].mean().item(), sq[test_idx].mean().item()
        tr_acc, te_acc = correct[train_idx].mean().item(), correct[test_idx].mean().item()
        if writer:
            writer.save(model, step=epoch, epoch=epoch, train_loss=tr_loss, test_loss=te_loss,
                        train_accuracy=tr_acc, test_accuracy=te_acc)
        print(f"epoch {epoch:6d}  train loss {tr_loss:.3e} acc {tr_acc:.4f}  "
              f"test loss {te_loss:.3e} acc {te_acc:.4f}  {time.perf_counter() - start:7.1f} s", flush=True)

    evaluate(0)
    for epoch in range(1, args.epochs + 1):
        loss = ((model(train_x) - train_t) ** 2).mean()
        optimizer.zero_grad(set_to_none=False)
        loss.backward()
        optimizer.step()
        if epoch % args.checkpoint_every == 0 or epoch == args.epochs:
            evaluate(epoch)
    if writer and not args.keep_open:
        writer.finish()


if __name__ == "__main__":
    main()
