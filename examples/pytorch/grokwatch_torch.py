"""Helpers for streaming a PyTorch training run into grokwatch.

The workflow: export the model to ONNX once (export_onnx), write the probe inputs once (save_probes), then
save one safetensors checkpoint per evaluation step into a directory (CheckpointWriter) that
``grokwatch publish --watch DIR`` follows.

Only torch and numpy are needed: the safetensors format is simple enough to write by hand (an 8-byte
little-endian header length, a JSON header, then the raw little-endian tensor bytes), so the ``safetensors``
package is not required. ``load_safetensors`` reads the format back, for checks and debugging.

Run ``python3 grokwatch_torch.py --self-test`` (or check_safetensors.py) to verify the format.
"""

import json
import math
import os
import struct
import sys
import tempfile

import numpy as np
import torch

__all__ = [
    "save_safetensors",
    "load_safetensors",
    "export_onnx",
    "onnx_initializer_names",
    "CheckpointWriter",
    "save_probes",
    "METADATA_KEY",
]

METADATA_KEY = "__metadata__"

# torch dtype -> (safetensors dtype name, numpy dtype used to get at the bytes). bfloat16 has no numpy
# equivalent; its bits are moved as int16.
_DTYPES = {
    torch.float64: ("F64", "<f8"),
    torch.float32: ("F32", "<f4"),
    torch.float16: ("F16", "<f2"),
    torch.bfloat16: ("BF16", "<i2"),
    torch.int64: ("I64", "<i8"),
    torch.int32: ("I32", "<i4"),
    torch.int16: ("I16", "<i2"),
    torch.int8: ("I8", "i1"),
    torch.uint8: ("U8", "u1"),
    torch.bool: ("BOOL", "u1"),
}

# safetensors dtype name -> (numpy dtype of the stored bytes, torch dtype to rebuild), for the reader.
_READ_DTYPES = {
    "F64": ("<f8", torch.float64),
    "F32": ("<f4", torch.float32),
    "F16": ("<f2", torch.float16),
    "BF16": ("<i2", torch.bfloat16),
    "I64": ("<i8", torch.int64),
    "I32": ("<i4", torch.int32),
    "I16": ("<i2", torch.int16),
    "I8": ("i1", torch.int8),
    "U8": ("u1", torch.uint8),
    "BOOL": ("u1", torch.bool),
}

_ALIGNMENT = 8


def _tensor_bytes(name, tensor):
    """The safetensors dtype name and the raw little-endian row-major bytes of one tensor."""
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"tensor {name!r} is a {type(tensor).__name__}, not a torch.Tensor")
    if tensor.dtype not in _DTYPES:
        raise TypeError(f"tensor {name!r} has dtype {tensor.dtype}, which safetensors cannot hold here; "
                        f"supported: {sorted(v[0] for v in _DTYPES.values())}")
    dtype_name, np_dtype = _DTYPES[tensor.dtype]
    t = tensor.detach().to("cpu").contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    elif t.dtype == torch.bool:
        t = t.to(torch.uint8)
    arr = np.ascontiguousarray(t.numpy()).astype(np_dtype, copy=False)
    return dtype_name, arr.tobytes(order="C")


def encode_safetensors(tensors, metadata=None):
    """The bytes of a safetensors file holding ``tensors`` (name -> torch.Tensor, in order) and ``metadata``.

    The data section holds the tensors back to back in the given order, without gaps; the header is padded
    with spaces so that the data section starts at a multiple of 8 bytes.
    """
    header = {}
    if metadata:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise TypeError(f"metadata must map strings to strings, got {k!r}: {v!r} "
                                f"({type(k).__name__}: {type(v).__name__})")
        header[METADATA_KEY] = dict(metadata)
    blobs = []
    offset = 0
    for name, tensor in tensors.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"tensor names must be non-empty strings, got {name!r}")
        if name == METADATA_KEY:
            raise ValueError(f"{METADATA_KEY!r} is reserved for the metadata and cannot name a tensor")
        dtype_name, raw = _tensor_bytes(name, tensor)
        header[name] = {
            "dtype": dtype_name,
            "shape": [int(d) for d in tensor.shape],
            "data_offsets": [offset, offset + len(raw)],
        }
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode("utf-8")
    text += b" " * (-(8 + len(text)) % _ALIGNMENT)
    return b"".join([struct.pack("<Q", len(text)), text] + blobs)


def save_safetensors(path, tensors, metadata=None):
    """Writes ``tensors`` (name -> torch.Tensor) and string ``metadata`` to ``path`` as safetensors.

    The file is written to a temporary file in the same directory and then renamed over ``path``
    (``os.replace``), so a watcher never sees a half-written checkpoint. The temporary name starts with a
    dot and ends in ``.tmp``, so it never matches ``step-<n>.safetensors``.
    """
    data = encode_safetensors(tensors, metadata)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def load_safetensors(path_or_bytes):
    """Reads a safetensors file (a path or its bytes): returns ``(tensors, metadata)``.

    ``tensors`` is a dict name -> torch.Tensor in the order of the header; ``metadata`` a dict of strings.
    Strict: rejects headers that are not JSON objects, unknown dtypes, sizes that do not match shapes and
    ranges past the end of the file.
    """
    if isinstance(path_or_bytes, (bytes, bytearray)):
        data = bytes(path_or_bytes)
    else:
        with open(path_or_bytes, "rb") as f:
            data = f.read()
    if len(data) < 8:
        raise ValueError(f"file of {len(data)} bytes is too short for the 8-byte header length")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise ValueError(f"header length {n} runs past the end of the {len(data)}-byte file")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    if not isinstance(header, dict):
        raise ValueError("header is not a JSON object")
    body = memoryview(data)[8 + n:]
    metadata = header.pop(METADATA_KEY, None) or {}
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise ValueError(f"{METADATA_KEY} values must be strings: {metadata!r}")
    tensors = {}
    for name, entry in header.items():
        dtype_name = entry["dtype"]
        if dtype_name not in _READ_DTYPES:
            raise ValueError(f"tensor {name!r}: unknown dtype {dtype_name!r}")
        np_dtype, torch_dtype = _READ_DTYPES[dtype_name]
        shape = [int(d) for d in entry["shape"]]
        begin, end = (int(v) for v in entry["data_offsets"])
        count = math.prod(shape)
        itemsize = np.dtype(np_dtype).itemsize
        if end - begin != count * itemsize or begin < 0 or end > len(body):
            raise ValueError(f"tensor {name!r}: data_offsets [{begin}, {end}] do not fit shape {shape} of "
                             f"{dtype_name} in a {len(body)}-byte data section")
        arr = np.frombuffer(body[begin:end], dtype=np_dtype, count=count).reshape(shape)
        t = torch.from_numpy(arr.astype(arr.dtype.newbyteorder("="), copy=True))
        if torch_dtype == torch.bfloat16:
            t = t.view(torch.bfloat16)
        elif torch_dtype == torch.bool:
            t = t != 0
        tensors[name] = t
    return tensors, metadata


def onnx_initializer_names(path):
    """Names of the initializers (stored weights) of an ONNX file."""
    import onnx

    model = onnx.load(os.fspath(path))
    return [init.name for init in model.graph.initializer]


def _separate_equal_tensors(model):
    """Gives state_dict tensors whose values equal an earlier tensor's a temporary distinct value.

    In eval mode the ONNX exporter merges initializers with equal values into one (a fresh LayerNorm's
    weights are all ones, its biases all zeros), which would drop their names from the graph. Returns
    {name: (tensor, original values)} for export_onnx to restore. Tensors sharing storage (tied weights)
    are left alone: they are one tensor.
    """
    changed = {}
    seen = []
    with torch.no_grad():
        for name, t in model.state_dict(keep_vars=True).items():
            if not t.is_floating_point() or t.numel() == 0:
                continue
            for other in seen:
                if (other.shape == t.shape and other.dtype == t.dtype and other.data_ptr() != t.data_ptr()
                        and torch.equal(other, t)):
                    changed[name] = (t, t.detach().clone())
                    t.fill_(1000.0 + len(changed))
                    break
            seen.append(t)
    return changed


def export_onnx(model, example_input, path, input_name="x"):
    """Exports ``model`` to ONNX once, for grokwatch to compute the eNTK on the graph.

    Constant folding is off and the opset is 14, so every parameter stays an initializer named as in
    ``model.state_dict()``; grokwatch matches the tensors of each checkpoint to the graph by these names.
    The batch dimension of the input and of the ``logits`` output is dynamic. Prints a warning naming every
    state_dict entry that is not an initializer of the exported graph, and returns that list.
    """
    import onnx
    from onnx import numpy_helper

    path = os.fspath(path)
    was_training = model.training
    model.eval()
    changed = _separate_equal_tensors(model)
    try:
        # Grad mode on: nn.MultiheadAttention takes a fused "fast path" (not exportable) when it runs in eval
        # mode without grad; with grad enabled and trainable weights it runs the exportable ops.
        with torch.enable_grad():
            torch.onnx.export(
                model,
                (example_input,),
                path,
                export_params=True,
                do_constant_folding=False,
                opset_version=14,
                input_names=[input_name],
                output_names=["logits"],
                dynamic_axes={input_name: {0: "batch"}, "logits": {0: "batch"}},
            )
    finally:
        with torch.no_grad():
            for t, original in changed.values():
                t.copy_(original)
        model.train(was_training)
    graph = onnx.load(path)
    if changed:  # put the true values back into the graph
        for init in graph.graph.initializer:
            if init.name in changed:
                init.CopyFrom(numpy_helper.from_array(changed[init.name][1].cpu().numpy(), init.name))
        onnx.save(graph, path)
    initializers = {init.name for init in graph.graph.initializer}
    missing = [name for name in model.state_dict() if name not in initializers]
    if missing:
        print(f"warning: {path}: state_dict entries missing from the ONNX initializers (grokwatch cannot "
              f"match them to the graph): {', '.join(missing)}", file=sys.stderr)
    return missing


def _metric(value):
    """A metric as a metadata string that Java's Double.parseDouble reads (NaN and infinities included)."""
    v = float(value)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return repr(v)


class CheckpointWriter:
    """Writes ``DIR/step-<n>.safetensors`` checkpoints for ``grokwatch publish --watch DIR``.

    Each file holds ``model.state_dict()`` (floating-point tensors as float32 by default, or float64 with
    ``dtype=torch.float64``; integer buffers unchanged) and the metadata keys ``step``, ``epoch`` and, when
    given, ``trainLoss``, ``testLoss``, ``trainAccuracy``, ``testAccuracy``.
    """

    def __init__(self, directory, dtype=torch.float32):
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"checkpoint dtype must be torch.float32 or torch.float64, got {dtype}")
        self.directory = os.fspath(directory)
        self.dtype = dtype
        os.makedirs(self.directory, exist_ok=True)

    def path(self, step):
        return os.path.join(self.directory, f"step-{int(step)}.safetensors")

    def save(self, model, step, epoch, train_loss=None, test_loss=None, train_accuracy=None,
             test_accuracy=None):
        step = int(step)
        epoch = int(epoch)
        if step < 0 or epoch < 0:
            raise ValueError(f"step and epoch must be >= 0, got step {step}, epoch {epoch}")
        tensors = {}
        for name, t in model.state_dict().items():
            t = t.detach()
            tensors[name] = t.to(self.dtype) if t.is_floating_point() else t
        metadata = {"step": str(step), "epoch": str(epoch)}
        for key, value in (("trainLoss", train_loss), ("testLoss", test_loss),
                           ("trainAccuracy", train_accuracy), ("testAccuracy", test_accuracy)):
            if value is not None:
                metadata[key] = _metric(value)
        path = self.path(step)
        save_safetensors(path, tensors, metadata)
        return path

    def finish(self, status="completed"):
        """Says the run is over: writes ``DIR/run-finished`` (holding ``status``: completed, stopped or failed),
        on which ``publish --watch`` publishes the checkpoints still waiting, then the run's end, and exits. The
        analyzer then resolves the run's alerts and no longer expects checkpoints (else it reports it stalled)."""
        if status not in ("completed", "stopped", "failed"):
            raise ValueError(f"status must be completed, stopped or failed, got {status!r}")
        path = os.path.join(self.directory, "run-finished")
        tmp = os.path.join(self.directory, ".run-finished.tmp")
        with open(tmp, "w") as f:
            f.write(status + "\n")
        os.replace(tmp, path)
        return path


def save_probes(path, tensor, name="x", train=None, labels=None):
    """Writes the probe inputs: one tensor named as the graph input (int64 token ids or floats).

    With train (one bool per probe: trained on) and labels (one class per probe; held-out entries are not read), the
    file also carries the run's train split, which the family-free onset detector grokking-onset-general needs.
    """
    if not isinstance(tensor, torch.Tensor):
        tensor = torch.as_tensor(tensor)
    if tensor.dim() < 1 or tensor.shape[0] == 0:
        raise ValueError(f"probes must have a non-empty batch dimension, got shape {list(tensor.shape)}")
    tensors = {name: tensor}
    if (train is None) != (labels is None):
        raise ValueError("train and labels go together")
    if train is not None:
        train = torch.as_tensor(train).reshape(-1).to(torch.int64)
        labels = torch.as_tensor(labels).reshape(-1).to(torch.int64)
        if train.shape[0] != tensor.shape[0] or labels.shape[0] != tensor.shape[0]:
            raise ValueError(f"train and labels need one entry per probe ({tensor.shape[0]}), got "
                             f"{train.shape[0]} and {labels.shape[0]}")
        tensors["train"] = train
        tensors["labels"] = labels
    save_safetensors(path, tensors, None)


def _self_test():
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    import check_safetensors

    return check_safetensors.main()


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(_self_test())
    print(__doc__)
    print("usage: python3 grokwatch_torch.py --self-test")
    sys.exit(2)
