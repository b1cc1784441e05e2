"""A one-layer transformer learning (a + b) mod p, as in Nanda et al. 2023, streamed to grokwatch.

Input: int64 tokens [N, 3] = (a, b, p), where token p stands for "="; output: logits at the last position,
[N, p]. Token embedding (p + 1 tokens), learned position embedding, one block (multi-head self-attention
then an MLP with ReLU, each with a residual connection; no LayerNorm unless --layernorm), unembedding.
Full-batch AdamW with cross-entropy, trained on a seeded random fraction of all p^2 pairs.

With --out DIR the script exports DIR/model.onnx once at the start, writes DIR/probes.safetensors (all p^2
pairs) and saves DIR/step-<epoch>.safetensors every --checkpoint-every epochs, for

    ./grokwatch publish --run-id torch-1 --model DIR/model.onnx --probe-file DIR/probes.safetensors \\
        --bootstrap-servers localhost:9092 --watch DIR

See README.md for the settings that grok within 15 minutes on 2 CPU cores (--preset cpu15).
"""

import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grokwatch_torch as gt  # noqa: E402

SEQUENCE_LENGTH = 3  # a, b, "="

# Defaults follow Nanda et al. 2023 (p = 113, 30% of the pairs for training, AdamW lr 1e-3, weight decay 1,
# betas (0.9, 0.98), 10 warm-up steps, full batch). A preset replaces some of them; explicit options win.
DEFAULTS = {
    "p": 113, "seed": 0, "epochs": 20000, "lr": 1e-3, "weight_decay": 1.0, "train_fraction": 0.3,
    "d_model": 128, "heads": 4, "d_mlp": 512, "warmup": 10, "grokfast_alpha": 0.98, "grokfast_lambda": 0.0,
}
PRESETS = {
    "nanda": {},
    # Measured to grok within 15 minutes on 2 shared CPU cores (README.md): Nanda's model and data with
    # Grokfast-EMA (alpha 0.98, lambda 2) and a 3x larger learning rate.
    "cpu15": {"lr": 3e-3, "grokfast_alpha": 0.98, "grokfast_lambda": 2.0, "epochs": 3000},
}


class ManualAttention(nn.Module):
    """Multi-head self-attention written out: q/k/v projections, split into heads, scaled dot product,
    softmax (optionally causal), heads concatenated, output projection.

    Initialised exactly as nn.MultiheadAttention would be from the same random state (the weights are
    drawn by one and copied over), so with the same seed both --attention variants start from the same
    function and draw the same random numbers for the rest of the model.
    """

    def __init__(self, d_model, heads, causal=False):
        super().__init__()
        if d_model % heads:
            raise ValueError(f"d_model {d_model} is not a multiple of heads {heads}")
        self.heads = heads
        self.d_head = d_model // heads
        with torch.random.fork_rng():  # creating the layers must not consume random numbers
            self.q = nn.Linear(d_model, d_model)
            self.k = nn.Linear(d_model, d_model)
            self.v = nn.Linear(d_model, d_model)
            self.out = nn.Linear(d_model, d_model)
        reference = nn.MultiheadAttention(d_model, heads, batch_first=True)
        with torch.no_grad():
            for i, layer in enumerate((self.q, self.k, self.v)):
                layer.weight.copy_(reference.in_proj_weight[i * d_model:(i + 1) * d_model])
                layer.bias.copy_(reference.in_proj_bias[i * d_model:(i + 1) * d_model])
            self.out.weight.copy_(reference.out_proj.weight)
            self.out.bias.copy_(reference.out_proj.bias)
        self.causal = causal
        if causal:
            # Not part of the state_dict: a constant of the graph, not a weight.
            mask = torch.ones(SEQUENCE_LENGTH, SEQUENCE_LENGTH, dtype=torch.bool).tril()
            self.register_buffer("mask", mask, persistent=False)

    def forward(self, x):
        batch, length, d_model = x.shape

        def split(t):  # [B, T, D] -> [B, H, T, D/H]
            return t.reshape(batch, length, self.heads, self.d_head).transpose(1, 2)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_head)
        if self.causal:
            scores = scores.masked_fill(~self.mask[:length, :length], float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        z = (weights @ v).transpose(1, 2).reshape(batch, length, d_model)
        return self.out(z)


class TorchAttention(nn.MultiheadAttention):
    """nn.MultiheadAttention used as self-attention (state_dict: in_proj_weight, in_proj_bias,
    out_proj.weight, out_proj.bias)."""

    def __init__(self, d_model, heads, causal=False):
        super().__init__(d_model, heads, batch_first=True)
        self.causal = causal
        if causal:
            # True marks a pair that may NOT attend (future positions).
            mask = torch.ones(SEQUENCE_LENGTH, SEQUENCE_LENGTH, dtype=torch.bool).triu(1)
            self.register_buffer("mask", mask, persistent=False)

    def forward(self, x):
        mask = self.mask[:x.shape[1], :x.shape[1]] if self.causal else None
        out, _ = super().forward(x, x, x, attn_mask=mask, need_weights=False)
        return out


class ModAddTransformer(nn.Module):
    def __init__(self, p, d_model=128, heads=4, d_mlp=512, attention="torch", layernorm=False, causal=False):
        super().__init__()
        self.p = p
        self.embed = nn.Embedding(p + 1, d_model)
        self.pos = nn.Parameter(torch.randn(SEQUENCE_LENGTH, d_model) / math.sqrt(d_model))
        nn.init.normal_(self.embed.weight, std=1 / math.sqrt(d_model))
        if attention == "torch":
            self.attn = TorchAttention(d_model, heads, causal)
        elif attention == "manual":
            self.attn = ManualAttention(d_model, heads, causal)
        else:
            raise ValueError(f"attention must be torch or manual, got {attention!r}")
        self.mlp = nn.Sequential(nn.Linear(d_model, d_mlp), nn.ReLU(), nn.Linear(d_mlp, d_model))
        self.layernorm = layernorm
        if layernorm:  # pre-LN: before attention, before the MLP and before the unembedding
            self.ln1 = nn.LayerNorm(d_model)
            self.ln2 = nn.LayerNorm(d_model)
            self.ln_final = nn.LayerNorm(d_model)
        self.unembed = nn.Linear(d_model, p, bias=False)

    def forward(self, tokens):
        x = self.embed(tokens) + self.pos
        x = x + self.attn(self.ln1(x) if self.layernorm else x)
        # With one layer only the last position ("=") reaches the logits, so the MLP and the unembedding
        # run on that position alone: the same function as running them everywhere and slicing after.
        x = x[:, -1]
        x = x + self.mlp(self.ln2(x) if self.layernorm else x)
        return self.unembed(self.ln_final(x) if self.layernorm else x)


def all_pairs(p):
    """All p^2 inputs as int64 tokens [p^2, 3], row a*p + b = (a, b, p), and labels (a + b) mod p.

    The row order is that of grokwatch's own modular-addition probes
    (core/src/main/java/io/grokwatch/probe/ModularAddition.java: row = a*p + b), so kernels computed from
    these probes line up with those of --probe modular-addition:p=P.
    """
    a = torch.arange(p).repeat_interleave(p)  # 0,0,...,0,1,1,... : a-major
    b = torch.arange(p).repeat(p)             # 0,1,...,p-1,0,1,...
    tokens = torch.stack([a, b, torch.full_like(a, p)], dim=1)
    return tokens, (a + b) % p


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=sorted(PRESETS), default="nanda",
                    help="nanda: Nanda et al. 2023 (default); cpu15: groks within 15 min on 2 CPU cores")
    ap.add_argument("--p", type=int, help=f"modulus (default {DEFAULTS['p']})")
    ap.add_argument("--seed", type=int, help="seeds the split and the initialisation (default 0)")
    ap.add_argument("--epochs", type=int, help="full-batch epochs (default: 20000; cpu15: 3000)")
    ap.add_argument("--lr", type=float, help="AdamW learning rate (default 1e-3; cpu15: 3e-3)")
    ap.add_argument("--weight-decay", type=float, help="AdamW weight decay (default 1.0)")
    ap.add_argument("--train-fraction", type=float, help="fraction of the p^2 pairs trained on (default 0.3)")
    ap.add_argument("--d-model", type=int, help="residual width (default 128)")
    ap.add_argument("--heads", type=int, help="attention heads (default 4)")
    ap.add_argument("--d-mlp", type=int, help="MLP hidden width (default 512)")
    ap.add_argument("--warmup", type=int, help="linear learning-rate warm-up steps (default 10)")
    ap.add_argument("--grokfast-alpha", type=float, help="Grokfast-EMA momentum (default 0.98)")
    ap.add_argument("--grokfast-lambda", type=float,
                    help="Grokfast-EMA amplification: grad += lambda * ema(grad); 0 = off (default 0; cpu15: 2)")
    ap.add_argument("--attention", choices=["torch", "manual"], default="torch",
                    help="nn.MultiheadAttention or the hand-written attention (default torch)")
    ap.add_argument("--layernorm", action="store_true", help="pre-LayerNorm before attention, MLP and unembedding")
    ap.add_argument("--causal", action="store_true",
                    help="causal attention mask (does not change the logits of a one-layer model)")
    ap.add_argument("--threads", type=int, help="torch.set_num_threads")
    ap.add_argument("--out", help="directory for model.onnx, probes.safetensors and step-<n>.safetensors")
    ap.add_argument("--keep-open", action="store_true",
                    help="do not write DIR/run-finished at the end (more checkpoints will follow into --out)")
    ap.add_argument("--checkpoint-every", type=int, default=10,
                    help="evaluate, print and (with --out) save a checkpoint every K epochs (default 10)")
    ap.add_argument("--float64-checkpoints", action="store_true", help="save checkpoint weights as float64")
    ap.add_argument("--max-minutes", type=float, help="stop after this much wall time")
    ap.add_argument("--stop-at-test-accuracy", type=float,
                    help="stop at the first checkpoint whose test accuracy reaches this value")
    ap.add_argument("--summary-json", help="append a JSON line with the settings and milestones to this file")
    args = ap.parse_args(argv)
    settings = dict(DEFAULTS)
    settings.update(PRESETS[args.preset])
    for key in DEFAULTS:
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    for key, value in settings.items():
        setattr(args, key, value)
    if not 0 < args.train_fraction < 1:
        ap.error(f"--train-fraction must be in (0, 1), got {args.train_fraction}")
    if args.checkpoint_every < 1:
        ap.error("--checkpoint-every must be >= 1")
    return args


class GrokfastEMA:
    """Grokfast-EMA (Lee et al. 2024): low-pass the gradients with an exponential moving average and add
    lambda times it back, amplifying the slow components. Call after backward(), before the step."""

    def __init__(self, params, alpha, lam):
        self.params = [p for p in params if p.requires_grad]
        self.alpha = alpha
        self.lam = lam
        self.ema = None

    def apply(self):
        grads = [p.grad for p in self.params]
        if self.ema is None:
            self.ema = [g.detach().clone() for g in grads]
        else:
            for e, g in zip(self.ema, grads):
                e.mul_(self.alpha).add_(g, alpha=1 - self.alpha)
        for e, g in zip(self.ema, grads):
            g.add_(e, alpha=self.lam)


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    p = args.p
    tokens, labels = all_pairs(p)
    n = p * p
    n_train = int(n * args.train_fraction)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(args.seed))
    train_idx, test_idx = perm[:n_train], perm[n_train:]
    train_x, train_y = tokens[train_idx], labels[train_idx]

    model = ModAddTransformer(p, args.d_model, args.heads, args.d_mlp, args.attention, args.layernorm, args.causal)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay,
                                  betas=(0.9, 0.98))
    warmup = max(1, args.warmup)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / warmup))
    grokfast = GrokfastEMA(model.parameters(), args.grokfast_alpha, args.grokfast_lambda) \
        if args.grokfast_lambda > 0 else None

    writer = None
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        gt.export_onnx(model, tokens[:2], os.path.join(args.out, "model.onnx"), input_name="x")
        train_mask = torch.zeros(n, dtype=torch.int64)
        train_mask[train_idx] = 1
        gt.save_probes(os.path.join(args.out, "probes.safetensors"), tokens, name="x", train=train_mask,
                       labels=labels)
        writer = gt.CheckpointWriter(args.out, torch.float64 if args.float64_checkpoints else torch.float32)

    settings = {k: getattr(args, k) for k in DEFAULTS}
    settings.update(preset=args.preset, attention=args.attention, layernorm=args.layernorm, causal=args.causal,
                    threads=torch.get_num_threads())
    print("settings " + " ".join(f"{k}={v}" for k, v in settings.items()), flush=True)
    print(f"{n_train} training pairs, {n - n_train} test pairs, "
          f"{sum(t.numel() for t in model.parameters())} parameters", flush=True)

    milestones = {"train>=0.99": None, "test>=0.1": None, "test>=0.5": None, "test>=0.9": None,
                  "test>=0.99": None}
    start = time.perf_counter()

    def evaluate(epoch):
        model.eval()
        with torch.no_grad():
            logits = model(tokens).double()
        model.train()
        losses = F.cross_entropy(logits, labels, reduction="none")
        correct = (logits.argmax(dim=1) == labels).double()
        tr_loss, te_loss = losses[train_idx].mean().item(), losses[test_idx].mean().item()
        tr_acc, te_acc = correct[train_idx].mean().item(), correct[test_idx].mean().item()
        elapsed = time.perf_counter() - start
        for key, value, threshold in (("train>=0.99", tr_acc, 0.99), ("test>=0.1", te_acc, 0.1),
                                      ("test>=0.5", te_acc, 0.5), ("test>=0.9", te_acc, 0.9),
                                      ("test>=0.99", te_acc, 0.99)):
            if milestones[key] is None and value >= threshold:
                milestones[key] = {"epoch": epoch, "seconds": round(elapsed, 1)}
        if writer:
            writer.save(model, step=epoch, epoch=epoch, train_loss=tr_loss, test_loss=te_loss,
                        train_accuracy=tr_acc, test_accuracy=te_acc)
        print(f"epoch {epoch:6d}  train loss {tr_loss:.3e} acc {tr_acc:.4f}  "
              f"test loss {te_loss:.3e} acc {te_acc:.4f}  {elapsed:7.1f} s", flush=True)
        return te_acc

    evaluate(0)
    epoch = 0
    reason = "epochs done"
    for epoch in range(1, args.epochs + 1):
        logits = model(train_x)
        loss = F.cross_entropy(logits.double(), train_y)
        optimizer.zero_grad(set_to_none=False)
        loss.backward()
        if grokfast:
            grokfast.apply()
        optimizer.step()
        schedule.step()
        if epoch % args.checkpoint_every == 0 or epoch == args.epochs:
            test_acc = evaluate(epoch)
            if args.stop_at_test_accuracy is not None and test_acc >= args.stop_at_test_accuracy:
                reason = f"test accuracy reached {args.stop_at_test_accuracy}"
                break
            if args.max_minutes is not None and time.perf_counter() - start > 60 * args.max_minutes:
                reason = f"time limit of {args.max_minutes} min"
                break
    wall = time.perf_counter() - start
    if writer and not args.keep_open:
        writer.finish("stopped" if reason.startswith("time limit") else "completed")
    summary = {"settings": settings, "milestones": milestones, "last_epoch": epoch, "wall_seconds": round(wall, 1),
               "stopped": reason}
    print("milestones " + " ".join(
        f"{k}@{v['epoch']}({v['seconds']}s)" if v else f"{k}@never" for k, v in milestones.items())
        + f"  wall {wall:.1f} s, {reason}", flush=True)
    if args.summary_json:
        with open(args.summary_json, "a") as f:
            f.write(json.dumps(summary) + "\n")
    return summary


if __name__ == "__main__":
    main()
