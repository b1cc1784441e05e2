"""The paper's way of computing an eNTK on CPU, as the peer of `grokwatch bench onnx`: per-probe Jacobians of
the whole model with functorch's vmap(jacrev), contracted with einsum into the class-mean kernel, then eigh.

Usage: functorch_entk.py OUT_DIR P TOPK REPEATS
  builds the model (seeded by p), writes OUT_DIR/model.onnx and OUT_DIR/weights.safetensors for grokwatch (OUT_DIR
  "-" skips that), and prints one JSON line: the seconds of each repeat, the top eigenvalues, the parameter count.
  REPEATS 0 only writes the files (e.g. the p = 113 model for `grokwatch entk`).
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn
from functorch import jacrev, make_functional_with_buffers, vmap

torch.set_default_dtype(torch.float64)


class Transformer(nn.Module):
    """A 1-layer transformer on (a, b, =) tokens (Nanda et al. 2023): embeddings, one attention block with a
    causal mask, a ReLU MLP, residual connections, a read-out of the last position."""

    def __init__(self, p, d=128, heads=4, d_mlp=512):
        super().__init__()
        self.embed = nn.Embedding(p + 1, d)
        self.pos = nn.Parameter(torch.randn(3, d) * 0.5)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(d, d_mlp), nn.ReLU(), nn.Linear(d_mlp, d))
        self.unembed = nn.Linear(d, p, bias=False)
        self.register_buffer("mask", torch.triu(torch.ones(3, 3, dtype=torch.bool), 1))

    def forward(self, x):
        h = self.embed(x) + self.pos
        a, _ = self.attn(h, h, h, need_weights=False, attn_mask=self.mask)
        h = h + a
        h = h + self.mlp(h)
        return self.unembed(h[:, -1])


def tokens(p):
    return torch.tensor([[a, b, p] for a in range(p) for b in range(p)], dtype=torch.int64)


def main():
    out_dir, p, top_k, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    torch.manual_seed(p)
    model = Transformer(p)
    x = tokens(p)
    if out_dir != "-":
        export(model, x, out_dir)
    fmodel, params, buffers = make_functional_with_buffers(model)

    def one(params, xi):
        return fmodel(params, buffers, xi.unsqueeze(0)).squeeze(0)

    seconds = []
    values = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        jac = vmap(jacrev(one), (None, 0))(params, x)
        c = p
        k = sum(torch.einsum("ncp,mcp->nm", j.reshape(j.shape[0], c, -1), j.reshape(j.shape[0], c, -1)) for j in jac) / c
        values = torch.linalg.eigvalsh(k).flip(0)[:top_k]
        seconds.append(time.perf_counter() - t0)
        del jac, k
    print(json.dumps({"seconds": seconds, "eigenvalues": [] if values is None else values.tolist(),
                      "parameters": sum(q.numel() for q in params), "probes": x.shape[0]}))


def export(model, x, out_dir):
    """The same model for grokwatch: ONNX (exported once) and its weights as safetensors, float64."""
    import os
    import struct
    os.makedirs(out_dir, exist_ok=True)
    torch.onnx.export(model, (x[:2],), os.path.join(out_dir, "model.onnx"), do_constant_folding=False,
                      opset_version=14, input_names=["x"], output_names=["logits"],
                      dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}})
    header, blobs, offset = {}, [], 0
    for name, t in model.named_parameters():
        raw = t.detach().contiguous().numpy().tobytes()
        header[name] = {"dtype": "F64", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(os.path.join(out_dir, "weights.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


if __name__ == "__main__":
    main()
