"""Exports each example model to ONNX (opset 14, do_constant_folding=False, as export_onnx does), checks
the graphs with onnx.checker.check_model and lists their op types, initializers and the state_dict names
the initializers cover. Then runs each graph with a small numpy interpreter of exactly these op types
(no ONNX runtime is needed) on trained-looking random weights and compares its logits with PyTorch's.
Prints Markdown; ONNX_OPS.md is its output.

    python3 onnx_ops.py > ONNX_OPS.md
"""

import collections
import os
import sys
import tempfile

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grokwatch_torch as gt  # noqa: E402
import mlp_modadd  # noqa: E402
import transformer_modadd as tm  # noqa: E402


def _np_type(onnx_type):
    return onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[onnx_type]


def run_graph(model, feeds):
    """Evaluates an ONNX graph with numpy, supporting the op types the examples export (opset 14)."""
    env = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    env.update(feeds)
    for node in model.graph.node:
        a = {attr.name: helper.get_attribute_value(attr) for attr in node.attribute}
        x = [env[name] if name else None for name in node.input]
        op = node.op_type
        if op == "Constant":
            y = numpy_helper.to_array(a["value"])
        elif op == "ConstantOfShape":
            value = numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1, np.float32)
            y = np.full(tuple(x[0]), value.reshape(-1)[0], dtype=value.dtype)
        elif op in ("Add", "Sub", "Mul", "Div", "Pow"):
            f = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide, "Pow": np.power}[op]
            y = f(x[0], x[1])
            if np.issubdtype(x[0].dtype, np.integer) and op == "Div":
                y = np.floor_divide(x[0], x[1])
            y = y.astype(x[0].dtype)
        elif op == "Sqrt":
            y = np.sqrt(x[0])
        elif op == "Relu":
            y = np.maximum(x[0], 0).astype(x[0].dtype)
        elif op == "Not":
            y = np.logical_not(x[0])
        elif op == "Identity":
            y = x[0]
        elif op == "Cast":
            y = x[0].astype(_np_type(a["to"]))
        elif op == "Shape":
            y = np.array(x[0].shape, dtype=np.int64)
        elif op == "Gather":
            y = np.take(x[0], x[1], axis=a.get("axis", 0))
        elif op == "Unsqueeze":
            y = x[0]
            for axis in sorted(int(v) % (x[0].ndim + len(x[1])) for v in x[1]):
                y = np.expand_dims(y, axis)
        elif op == "Concat":
            y = np.concatenate([np.atleast_1d(v) for v in x], axis=a["axis"])
        elif op == "Reshape":
            shape = [x[0].shape[i] if d == 0 else int(d) for i, d in enumerate(x[1])]
            y = x[0].reshape(shape)
        elif op == "Transpose":
            y = np.transpose(x[0], a.get("perm"))
        elif op == "Slice":
            axes = x[3] if len(x) > 3 and x[3] is not None else range(len(x[1]))
            steps = x[4] if len(x) > 4 and x[4] is not None else [1] * len(x[1])
            index = [slice(None)] * x[0].ndim
            for start, end, axis, step in zip(x[1], x[2], axes, steps):
                index[int(axis)] = slice(int(start), int(end), int(step))
            y = x[0][tuple(index)]
        elif op == "MatMul":
            y = np.matmul(x[0], x[1])
        elif op == "Gemm":
            left = x[0].T if a.get("transA", 0) else x[0]
            right = x[1].T if a.get("transB", 0) else x[1]
            y = a.get("alpha", 1.0) * (left @ right)
            if len(x) > 2 and x[2] is not None:
                y = y + a.get("beta", 1.0) * x[2]
            y = y.astype(x[0].dtype)
        elif op == "Softmax":
            axis = a.get("axis", -1)
            e = np.exp(x[0] - x[0].max(axis=axis, keepdims=True))
            y = e / e.sum(axis=axis, keepdims=True)
        elif op == "ReduceMean":
            y = x[0].mean(axis=tuple(a["axes"]), keepdims=bool(a.get("keepdims", 1)))
        elif op == "Where":
            y = np.where(x[0], x[1], x[2])
        else:
            raise NotImplementedError(f"op {op} not in the numpy interpreter")
        env[node.output[0]] = np.asarray(y)
    return [env[o.name] for o in model.graph.output]


def examples(p):
    tokens, _ = tm.all_pairs(p)
    one_hot, _ = mlp_modadd.all_pairs(p, dtype=torch.float32)
    yield "transformer_modadd.py --attention torch", tm.ModAddTransformer(p, attention="torch"), tokens[:2], tokens[100:107]
    yield "transformer_modadd.py --attention manual", tm.ModAddTransformer(p, attention="manual"), tokens[:2], tokens[100:107]
    yield "transformer_modadd.py --attention torch --layernorm", \
        tm.ModAddTransformer(p, attention="torch", layernorm=True), tokens[:2], tokens[100:107]
    yield "transformer_modadd.py --attention manual --layernorm", \
        tm.ModAddTransformer(p, attention="manual", layernorm=True), tokens[:2], tokens[100:107]
    yield "transformer_modadd.py --attention torch --causal", \
        tm.ModAddTransformer(p, attention="torch", causal=True), tokens[:2], tokens[100:107]
    yield "transformer_modadd.py --attention manual --causal", \
        tm.ModAddTransformer(p, attention="manual", causal=True), tokens[:2], tokens[100:107]
    yield "mlp_modadd.py", mlp_modadd.ModAddMLP(p), one_hot[:2], one_hot[100:107]


def describe(title, model, example, batch, tmp):
    path = os.path.join(tmp, "model.onnx")
    missing = gt.export_onnx(model, example, path)
    graph = onnx.load(path)
    onnx.checker.check_model(graph)
    ops = collections.Counter(node.op_type for node in graph.graph.node)
    state = model.state_dict()
    extra = [i.name for i in graph.graph.initializer if i.name not in state]
    io = lambda values: ", ".join(  # noqa: E731
        f"{v.name} {onnx.TensorProto.DataType.Name(v.type.tensor_type.elem_type)} "
        f"[{', '.join(d.dim_param or str(d.dim_value) for d in v.type.tensor_type.shape.dim)}]" for v in values)
    lines = [f"## `{title}`", ""]
    lines.append(f"- op types (sorted set): `{sorted(ops)}`")
    lines.append("- node counts: " + ", ".join(f"{op} {ops[op]}" for op in sorted(ops)))
    lines.append(f"- input: {io(graph.graph.input)}; output: {io(graph.graph.output)}")
    lines.append(f"- initializers named as the state_dict: {len(state) - len(missing)} of {len(state)}"
                 + (f" (missing: {', '.join(missing)})" if missing else "")
                 + f": `{', '.join(state)}`")
    lines.append("- other initializers (graph constants, not in checkpoints): "
                 + (f"`{', '.join(extra)}`" if extra else "none"))
    lines.append("- onnx.checker.check_model: passed")
    # Perturbed weights: a fresh LayerNorm (ones, zeros) or zero bias would hide a mixed-up operand.
    with torch.no_grad():
        for t in model.state_dict(keep_vars=True).values():
            if t.is_floating_point():
                t.add_(torch.randn_like(t) * 0.3 * max(1.0, float(t.std())))
    gt.export_onnx(model, example, path)
    model.eval()
    with torch.no_grad():
        want = model(batch).double().numpy()
    got = run_graph(onnx.load(path), {graph.graph.input[0].name: batch.numpy()})[0]
    diff = float(np.abs(got - want).max())
    assert got.shape == want.shape and diff < 1e-4 * max(1.0, float(np.abs(want).max())), (got.shape, diff)
    lines.append(f"- numpy interpreter vs PyTorch on {batch.shape[0]} inputs (batch size other than the export's 2): "
                 f"max abs difference {diff:.1e} on logits up to {float(np.abs(want).max()):.3g} in magnitude (float32)")
    return "\n".join(lines) + "\n"


def main():
    p = 113
    print("# ONNX op types of the PyTorch examples\n")
    print(f"Generated by `python3 onnx_ops.py > ONNX_OPS.md` with torch {torch.__version__} and onnx "
          f"{onnx.__version__}: each model exported by `grokwatch_torch.export_onnx` (opset 14, "
          "do_constant_folding=False, dynamic batch dimension), p = 113, default sizes (d_model 128, 4 heads, "
          "d_mlp 512; MLP width 512). The op sets do not depend on p or the sizes. Constant nodes carry "
          "shapes and scalars (reshape targets, the attention scale, the MLP's 1/sqrt(2p) and 1/H).\n")
    print(NOTES)
    with tempfile.TemporaryDirectory() as tmp:
        for title, model, example, batch in examples(p):
            print(describe(title, model, example, batch, tmp))


NOTES = """## What the exporter makes of the layers (torch 1.13, opset 14, no constant folding)

- `nn.Linear` on a 2-D input: `Gemm(x, W, b)` with `transB = 1` (y = x W^T + b).
- `nn.Linear` on a 3-D input, or without a bias: `MatMul(x, Transpose(W, perm [1, 0]))`, then
  `Add(b, ...)` (bias as the first operand) when there is a bias. Without constant folding the transpose of
  a weight is a `Transpose` node reading the initializer, not a transposed initializer.
- `nn.Embedding`: `Gather(embed.weight, x)` with the int64 token ids as indices (axis 0).
- `x[:, -1]` (the last position): `Gather(h, -1)` on axis 1 with a scalar index of -1: negative indices
  count from the end.
- The attention reshapes are computed from the runtime shape: `Shape`, `Gather` (axis 0, scalar index),
  integer `Div` / `Mul` / `Add`, `Cast` (to int64), `Unsqueeze` (axes as an input, opset 13+), `Concat`,
  then `Reshape` (`allowzero` 0). An importer has to evaluate these int64 shape subgraphs (the batch size is
  dynamic) or fold them for a known batch size.
- `nn.MultiheadAttention` works sequence-first inside (`Transpose` perm [1, 0, 2] in and out), projects with
  one `MatMul` against `Transpose(attn.in_proj_weight)` and cuts q, k, v apart with three `Slice`s on the
  last axis, with bounds computed from the shape; it scales q (`Div` by sqrt(d_head), a `Constant`) before
  `MatMul` with k, where the hand-written attention scales the scores after it.
- `Softmax` has `axis = -1`; LayerNorm (`--layernorm`) is decomposed into `ReduceMean` (axes [-1]),
  `Sub`, `Pow` (exponent 2), `Add` (eps), `Sqrt`, `Div`, `Mul`, `Add`.
- `--causal`: the mask is a graph constant (a non-persistent buffer, not in the checkpoints). The
  hand-written attention applies it as `Where(Not(mask), -inf, scores)`; nn.MultiheadAttention turns it
  into an additive float mask (`ConstantOfShape` zeros, `Where` -inf) and adds it to the scores (`baddbmm`:
  `Mul`, `Mul`, `Add`).
- The MLP's `Scale` and `Square` modules are `Mul` by a scalar `Constant` and `Mul(h, h)`.
"""


if __name__ == "__main__":
    main()
