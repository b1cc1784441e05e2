"""Self-check of the hand-written safetensors writer in grokwatch_torch.py.

Writes files with save_safetensors / CheckpointWriter / save_probes and reads them back with a separate,
deliberately plain parser (struct + json, written against the format description, not against the
writer), plus one byte-exact comparison with a file assembled by hand. Exits 0 when every check passes.

    python3 check_safetensors.py          (or: python3 grokwatch_torch.py --self-test)
"""

import json
import os
import struct
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grokwatch_torch as gt  # noqa: E402

# dtype name -> (struct format character, element size), little-endian.
_STRUCT = {"F64": ("d", 8), "F32": ("f", 4), "F16": ("e", 2), "I64": ("q", 8), "I32": ("i", 4),
           "I16": ("h", 2), "I8": ("b", 1), "U8": ("B", 1), "BOOL": ("B", 1), "BF16": ("H", 2)}


def parse(data):
    """Plain parser: returns (header dict without metadata, metadata, {name: flat list of values})."""
    assert len(data) >= 8, "shorter than the length prefix"
    n = struct.unpack("<Q", data[:8])[0]
    assert (8 + n) % 8 == 0, f"data section starts at {8 + n}, not a multiple of 8"
    raw_header = data[8:8 + n]
    assert raw_header[:1] == b"{", "header must start with '{'"
    stripped = raw_header.rstrip(b" ")
    assert stripped.endswith(b"}"), "header padding must be spaces after the JSON object"
    assert len(raw_header) - len(stripped) < 8, "more padding than alignment needs"
    header = json.loads(raw_header.decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    body = data[8 + n:]
    values = {}
    expected_begin = 0
    for name, e in header.items():
        assert set(e) == {"dtype", "shape", "data_offsets"}, f"{name}: fields {sorted(e)}"
        fmt, size = _STRUCT[e["dtype"]]
        count = 1
        for d in e["shape"]:
            count *= d
        begin, end = e["data_offsets"]
        assert begin == expected_begin, f"{name}: begins at {begin}, expected {expected_begin} (contiguous)"
        assert end - begin == count * size, f"{name}: {end - begin} bytes for {count} x {e['dtype']}"
        values[name] = list(struct.unpack("<" + fmt * count, body[begin:end]))
        expected_begin = end
    assert expected_begin == len(body), f"data section has {len(body)} bytes, tensors use {expected_begin}"
    return header, metadata, values


def bf16_bits(x):
    """The bfloat16 bits of float x (round to nearest even), computed without torch."""
    bits = struct.unpack("<I", struct.pack("<f", x))[0]
    bits += 0x7FFF + ((bits >> 16) & 1)
    return bits >> 16


def check_round_trip(tmp):
    tensors = {
        "w64": torch.tensor([[1.5, -2.25, 3.0], [0.1, 1e-300, -0.0]], dtype=torch.float64),
        "w32": torch.arange(12, dtype=torch.float32).reshape(3, 4).t(),  # non-contiguous view
        "w16": torch.tensor([0.5, -1.0, 65504.0], dtype=torch.float16),
        "wbf": torch.tensor([1.0, -3.140625, 2.0 ** -20], dtype=torch.bfloat16),
        "i64": torch.tensor([[0, 1, 2**40], [-5, 7, -(2**62)]], dtype=torch.int64),
        "i32": torch.tensor([-1, 2**31 - 1], dtype=torch.int32),
        "i8": torch.tensor([-128, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 255], dtype=torch.uint8),
        "flag": torch.tensor([True, False, True]),
        "scalar": torch.tensor(2.5, dtype=torch.float32),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
    }
    metadata = {"step": "7", "note": "ünïcode ok", "empty": ""}
    path = os.path.join(tmp, "all.safetensors")
    gt.save_safetensors(path, tensors, metadata)
    with open(path, "rb") as f:
        data = f.read()
    header, meta, values = parse(data)
    assert meta == metadata, meta
    assert list(header) == list(tensors), f"order {list(header)}"
    for name, t in tensors.items():
        e = header[name]
        assert e["shape"] == list(t.shape), f"{name}: shape {e['shape']}"
        if name == "wbf":
            want = [bf16_bits(float(v)) for v in t.float().flatten()]
        elif t.dtype == torch.bool:
            want = [int(v) for v in t.flatten()]
        else:
            want = t.contiguous().flatten().tolist()
        assert values[name] == want, f"{name}: {values[name]} != {want}"
    assert header["w64"]["dtype"] == "F64" and header["wbf"]["dtype"] == "BF16" and header["flag"]["dtype"] == "BOOL"
    assert header["i64"]["dtype"] == "I64" and header["i32"]["dtype"] == "I32"
    # The library's own reader agrees, bit for bit.
    back, meta2 = gt.load_safetensors(path)
    assert meta2 == metadata
    for name, t in tensors.items():
        assert back[name].dtype == t.dtype and torch.equal(back[name], t), name
    leftovers = [f for f in os.listdir(tmp) if f.endswith(".tmp")]
    assert not leftovers, f"temporary files left behind: {leftovers}"


def check_golden_bytes():
    """One file assembled by hand from the format description, compared byte for byte."""
    t = torch.tensor([[1.0, 2.0]], dtype=torch.float32)
    header = b'{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}}'
    header += b" " * (-(8 + len(header)) % 8)
    want = struct.pack("<Q", len(header)) + header + struct.pack("<2f", 1.0, 2.0)
    got = gt.encode_safetensors({"a": t}, {"k": "v"})
    assert got == want, f"\n got {got!r}\nwant {want!r}"


def check_checkpoint_writer(tmp):
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2, bias=False))
    model = model.double()
    writer = gt.CheckpointWriter(os.path.join(tmp, "ckpt"))
    path = writer.save(model, step=12, epoch=3, train_loss=0.25, test_loss=float("nan"), train_accuracy=1.0,
                       test_accuracy=0.125)
    assert os.path.basename(path) == "step-12.safetensors", path
    with open(path, "rb") as f:
        header, meta, values = parse(f.read())
    assert meta == {"step": "12", "epoch": "3", "trainLoss": "0.25", "testLoss": "NaN", "trainAccuracy": "1.0",
                    "testAccuracy": "0.125"}, meta
    assert list(header) == list(model.state_dict()), list(header)
    for name, t in model.state_dict().items():
        assert header[name]["dtype"] == "F32", header[name]
        assert values[name] == t.float().flatten().tolist(), name
    # float64 on request, and metrics left out when not given.
    path = gt.CheckpointWriter(os.path.join(tmp, "ckpt64"), dtype=torch.float64).save(model, 0, 0)
    with open(path, "rb") as f:
        header, meta, values = parse(f.read())
    assert meta == {"step": "0", "epoch": "0"}, meta
    assert all(header[n]["dtype"] == "F64" for n in header)
    assert values["0.weight"] == model.state_dict()["0.weight"].flatten().tolist()


def check_probes(tmp):
    p = 5
    a = torch.arange(p).repeat_interleave(p)
    b = torch.arange(p).repeat(p)
    tokens = torch.stack([a, b, torch.full_like(a, p)], dim=1)
    path = os.path.join(tmp, "probes.safetensors")
    gt.save_probes(path, tokens)
    with open(path, "rb") as f:
        header, meta, values = parse(f.read())
    assert meta == {} and list(header) == ["x"], (meta, list(header))
    assert header["x"] == {"dtype": "I64", "shape": [p * p, 3], "data_offsets": [0, p * p * 3 * 8]}, header
    assert values["x"][3 * (2 * p + 3):3 * (2 * p + 3) + 3] == [2, 3, p]


def check_rejects():
    for bad in ({"x": torch.zeros(1)}, {"__metadata__": torch.zeros(1)}):
        try:
            gt.encode_safetensors(bad, {"n": 1} if "x" in bad else None)
        except (TypeError, ValueError):
            continue
        raise AssertionError(f"accepted {bad}")


def main():
    checks = [check_golden_bytes, check_rejects]
    with tempfile.TemporaryDirectory() as tmp:
        for check in (check_round_trip, check_checkpoint_writer, check_probes):
            check(tmp)
            print(f"ok  {check.__name__}")
    for check in checks:
        check()
        print(f"ok  {check.__name__}")
    print("safetensors self-check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
