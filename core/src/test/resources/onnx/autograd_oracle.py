"""Builds small PyTorch models, exports each to ONNX as a user would, perturbs its weights (so a checkpoint
differs from the exported initializers, as every later checkpoint of a run does) and writes, per model, the
files the Java test reads:

  NAME.onnx              torch.onnx.export(..., do_constant_folding=False)
  NAME.ckpt.safetensors  the perturbed state_dict, float64
  NAME.probes.safetensors  the probe tensor 'x' (float64 or int64)
  NAME.expected.safetensors  autograd in float64: the outputs ('logits') and, for every parameter group g
                           and 'all', the class-mean kernel 'classMean.g' (N x N), the flattened kernel
                           'flattened.g' (NC x NC, rows c*N + x) and the per-class block 'perClass.g' (class 0)

Usage: autograd_oracle.py OUTDIR [NAME ...]. Per-probe gradients come from one autograd.grad call per
(probe, output), the plainest computation there is, independent of the Java engine's reverse mode.
"""
import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn

torch.manual_seed(1234)


def save_safetensors(path, tensors, metadata=None):
    header = {}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        dtype = {torch.float64: "F64", torch.float32: "F32", torch.int64: "I64"}[t.dtype]
        raw = t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


class PaperMlp(nn.Module):
    """f(x) = (1/H) W2 ((W1 x / sqrt(2p))^2), the paper's modular-addition model, on one-hot pairs."""

    def __init__(self, p=5, width=16):
        super().__init__()
        self.p, self.width = p, width
        self.net = nn.Sequential(nn.Linear(2 * p, width, bias=False), nn.Identity(), nn.Identity(),
                                 nn.Linear(width, p, bias=False))

    def forward(self, x):
        h = self.net[0](x) / math.sqrt(2 * self.p)
        return self.net[3](h * h) / self.width


class Mlp(nn.Module):
    def __init__(self, act, d_in=6, width=10, d_out=4):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_in, width), act, nn.Linear(width, width), act, nn.Linear(width, d_out))

    def forward(self, x):
        return self.net(x)


class EmbedResidualMlp(nn.Module):
    """Token embeddings, a residual MLP block behind a LayerNorm, a linear read-out of the last position."""

    def __init__(self, vocab=6, d=8, classes=5):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.randn(3, d) * 0.5)
        self.ln = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 16), nn.GELU(), nn.Linear(16, d))
        self.unembed = nn.Linear(d, classes)

    def forward(self, x):
        h = self.embed(x) + self.pos
        h = h + self.mlp(self.ln(h))
        return self.unembed(h[:, -1])


class TorchAttention(nn.Module):
    """A 1-layer transformer as Nanda et al. build it, with nn.MultiheadAttention and a causal mask."""

    def __init__(self, p=5, d=8, heads=2, d_mlp=16, layernorm=False):
        super().__init__()
        self.embed = nn.Embedding(p + 1, d)
        self.pos = nn.Parameter(torch.randn(3, d) * 0.5)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.ln = nn.LayerNorm(d) if layernorm else None
        self.mlp = nn.Sequential(nn.Linear(d, d_mlp), nn.ReLU(), nn.Linear(d_mlp, d))
        self.unembed = nn.Linear(d, p, bias=False)
        self.register_buffer("mask", torch.triu(torch.ones(3, 3, dtype=torch.bool), 1))

    def forward(self, x):
        h = self.embed(x) + self.pos
        a, _ = self.attn(h, h, h, need_weights=False, attn_mask=self.mask)
        h = h + a
        h = h + self.mlp(self.ln(h) if self.ln is not None else h)
        return self.unembed(h[:, -1])


class ManualAttention(nn.Module):
    """Hand-written multi-head attention: reshapes to heads, scaled scores, masked_fill causal mask, softmax."""

    def __init__(self, p=5, d=8, heads=2, d_mlp=16):
        super().__init__()
        self.heads = heads
        self.embed = nn.Embedding(p + 1, d)
        self.pos = nn.Parameter(torch.randn(3, d) * 0.5)
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.ln = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, d_mlp), nn.Tanh(), nn.Linear(d_mlp, d))
        self.unembed = nn.Linear(d, p)

    def forward(self, x):
        h = self.embed(x) + self.pos
        b, t, d = h.shape
        hd = d // self.heads
        q = self.q(h).view(b, t, self.heads, hd).transpose(1, 2)
        k = self.k(h).view(b, t, self.heads, hd).transpose(1, 2)
        v = self.v(h).view(b, t, self.heads, hd).transpose(1, 2)
        att = q @ k.transpose(-2, -1) / math.sqrt(hd)
        mask = torch.tril(torch.ones(t, t)).view(1, 1, t, t)
        att = att.masked_fill(mask == 0, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, d)
        h = h + self.o(y)
        h = h + self.mlp(self.ln(h))
        return self.unembed(h[:, -1])


class Tms(nn.Module):
    """A toy model of superposition, y = ReLU(W^T W x + b): one weight used twice (tied)."""

    def __init__(self, features=6, hidden=3):
        super().__init__()
        self.W = nn.Parameter(torch.randn(hidden, features) * 0.6)
        self.b = nn.Parameter(torch.randn(features) * 0.1)

    def forward(self, x):
        return torch.relu((x @ self.W.T) @ self.W + self.b)


def token_probes(p):
    return torch.tensor([[a, b, p] for a in range(p) for b in range(p)], dtype=torch.int64)


def one_hot_probes(p):
    x = torch.zeros(p * p, 2 * p, dtype=torch.float64)
    for a in range(p):
        for b in range(p):
            x[a * p + b, a] = 1
            x[a * p + b, p + b] = 1
    return x


def models():
    return {
        "paper_mlp": (lambda: PaperMlp(), lambda: one_hot_probes(5), 14, torch.float32),
        "mlp_relu": (lambda: Mlp(nn.ReLU()), None, 14, torch.float32),
        "mlp_gelu": (lambda: Mlp(nn.GELU()), None, 14, torch.float32),
        "mlp_gelu_tanh": (lambda: Mlp(nn.GELU(approximate="tanh")), None, 14, torch.float32),
        "mlp_tanh": (lambda: Mlp(nn.Tanh()), None, 14, torch.float32),
        "mlp_sigmoid": (lambda: Mlp(nn.Sigmoid()), None, 14, torch.float32),
        "mlp_silu": (lambda: Mlp(nn.SiLU()), None, 14, torch.float32),
        "mlp_float64": (lambda: Mlp(nn.GELU()), None, 14, torch.float64),
        "embed_residual_ln14": (lambda: EmbedResidualMlp(), lambda: torch.randint(0, 6, (14, 3)), 14, torch.float32),
        "embed_residual_ln17": (lambda: EmbedResidualMlp(), lambda: torch.randint(0, 6, (14, 3)), 17, torch.float32),
        "transformer_torch": (lambda: TorchAttention(), lambda: token_probes(5), 14, torch.float32),
        "transformer_torch_ln": (lambda: TorchAttention(layernorm=True), lambda: token_probes(5), 14, torch.float32),
        "transformer_manual": (lambda: ManualAttention(), lambda: token_probes(5), 17, torch.float32),
        "tms": (lambda: Tms(), lambda: torch.rand(12, 6, dtype=torch.float64), 14, torch.float64),
    }


def group_of(name):
    dot = name.rfind(".")
    return name if dot <= 0 else name[:dot]


def main():
    out = sys.argv[1]
    wanted = sys.argv[2:]
    os.makedirs(out, exist_ok=True)
    for name, (make, probes_fn, opset, export_dtype) in models().items():
        if wanted and name not in wanted:
            continue
        model = make().to(export_dtype)
        probes = probes_fn() if probes_fn else torch.randn(12, 6, dtype=torch.float64)
        example = probes[:2] if probes.dtype == torch.int64 else probes[:2].to(export_dtype)
        torch.onnx.export(model, (example,), os.path.join(out, name + ".onnx"), do_constant_folding=False,
                          opset_version=opset, input_names=["x"], output_names=["logits"],
                          dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}})
        model = model.double()
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.3 * torch.randn_like(p))
        params = dict(model.named_parameters())
        save_safetensors(os.path.join(out, name + ".ckpt.safetensors"), params, {"step": "1"})
        save_safetensors(os.path.join(out, name + ".probes.safetensors"), {"x": probes})
        logits = model(probes)
        n, c = logits.shape
        groups = {}
        for pname in params:
            groups.setdefault(group_of(pname), []).append(pname)
        jac = {g: torch.zeros(n, c, sum(params[p].numel() for p in ps), dtype=torch.float64)
               for g, ps in groups.items()}
        for i in range(n):
            out_i = model(probes[i:i + 1])[0]
            for cls in range(c):
                grads = torch.autograd.grad(out_i[cls], list(params.values()), retain_graph=True, allow_unused=True)
                by_name = dict(zip(params.keys(), grads))
                for g, ps in groups.items():
                    jac[g][i, cls] = torch.cat([(by_name[p] if by_name[p] is not None
                                                 else torch.zeros_like(params[p])).reshape(-1) for p in ps])
        jac["all"] = torch.cat([jac[g] for g in groups], dim=2)
        expected = {"logits": logits.detach()}
        for g, j in jac.items():
            expected["classMean." + g] = torch.einsum("ncp,mcp->nm", j, j) / c
            flat = j.permute(1, 0, 2).reshape(c * n, -1)
            expected["flattened." + g] = flat @ flat.T
            expected["perClass." + g] = j[:, 0] @ j[:, 0].T
        save_safetensors(os.path.join(out, name + ".expected.safetensors"), expected,
                         {"groups": ",".join(groups), "classes": str(c)})
        print(name, "probes", n, "outputs", c, "groups", ",".join(groups))


if __name__ == "__main__":
    main()
