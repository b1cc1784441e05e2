#!/usr/bin/env python3
"""Writes the safetensors fixtures for io.grokwatch.safetensors tests.

An independent writer: the format is produced by hand with struct/json/numpy (the `safetensors` package
is not used), so the Java reader is checked against bytes it did not produce. Run from any directory:

    python3 core/src/test/resources/safetensors/make_fixtures.py

The outputs are committed; the Java tests hold the expected numbers themselves. Deterministic: running
it again must leave `git status` clean.
"""
import json
import os
import struct

import numpy as np

OUT = os.path.dirname(os.path.abspath(__file__))


def header_bytes(header, pad=True, compact=False):
    text = json.dumps(header, separators=(",", ":") if compact else None)
    raw = text.encode("utf-8")
    if pad:
        raw += b" " * (-(8 + len(raw)) % 8)
    return raw


def save(name, header, data, pad=True, compact=False, length=None):
    """header: dict (json-encoded) or bytes (used verbatim); length overrides the u64 prefix."""
    raw = header if isinstance(header, bytes) else header_bytes(header, pad, compact)
    prefix = struct.pack("<Q", len(raw) if length is None else length)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(prefix + raw + data)


def entry(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": [begin, end]}


def f64(values):
    return np.asarray(values, dtype="<f8").tobytes()


def to_bf16_bits(values):
    """float32 -> bfloat16 bit patterns, round to nearest even (as torch does); NaN -> quiet NaN."""
    f = np.asarray(values, dtype="<f4")
    bits = f.view("<u4").astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype("<u2")
    rounded[np.isnan(f)] = 0x7FC0 | (np.signbit(f[np.isnan(f)]).astype("<u2") << 15)
    return rounded


# ------------------------------------------------------------------ valid files

def valid_f64():
    """Two F64 matrices + metadata; data stored in the opposite order of the header entries."""
    w0 = [[0.5, -1.25, 3.0, 0.1],
          [-0.2, 1e-300, -5e-324, 1.7976931348623157e308],
          [123456.789, -0.0, 2.5e-8, 7.0]]
    w3 = [[1.0, -1.0, 0.25],
          [0.333, -2.0e10, 6.02214076e23]]
    d3, d0 = f64(w3), f64(w0)
    header = {
        "__metadata__": {"format": "pt", "step": "1200"},
        "net.0.weight": entry("F64", (3, 4), len(d3), len(d3) + len(d0)),
        "net.3.weight": entry("F64", (2, 3), 0, len(d3)),
    }
    save("f64_two_tensors.safetensors", header, d3 + d0)


def valid_f32():
    """F32, compact JSON, no padding, metadata last."""
    w = [0.1, -2.5, 1e-40, 3.4e38, -0.0, 16777217.0]
    b = [1.5, float("-inf"), float("nan")]
    dw = np.asarray(w, dtype="<f4").tobytes()
    db = np.asarray(b, dtype="<f4").tobytes()
    header = {
        "w": entry("F32", (2, 3), 0, len(dw)),
        "b": entry("F32", (3,), len(dw), len(dw) + len(db)),
        "__metadata__": {"note": "unpadded, metadata last"},
    }
    save("f32_unpadded.safetensors", header, dw + db, pad=False, compact=True)


def valid_f16():
    h = [1.0, -2.5, 0.1, 65504.0, 6.103515625e-05, 5.960464477539063e-08, -3.0e-06,
         float("inf"), float("-inf"), float("nan"), -0.0, 1000.3]
    data = np.asarray(h, dtype="<f2").tobytes()
    save("f16.safetensors", {"h": entry("F16", (12,), 0, len(data))}, data)


def valid_f16_table():
    """2048 half bit patterns spread over every exponent and both signs, with numpy's float32 values."""
    i = np.arange(2048, dtype=np.uint32)
    bits = (i * 32 + i % 32).astype("<u2")
    half = bits.tobytes()
    as_f32 = bits.view("<f2").astype("<f4").tobytes()
    header = {
        "half": entry("F16", (2048,), 0, len(half)),
        "as_f32": entry("F32", (2048,), len(half), len(half) + len(as_f32)),
    }
    save("f16_table.safetensors", header, half + as_f32)


def valid_bf16():
    b = [1.0, -2.5, 3.14159265, 1e-40, -1e-39, 3.0e38, float("inf"), float("-inf"), float("nan"), -0.0, 0.1]
    data = to_bf16_bits(b).tobytes()
    save("bf16.safetensors", {"b": entry("BF16", (len(b),), 0, len(data))}, data)


def valid_mixed():
    """Scalar, empty tensor, integer types and float8, one after another."""
    parts = [
        ("scalar", "F64", (), np.asarray([42.5], dtype="<f8")),
        ("empty", "F32", (0, 3), np.zeros(0, dtype="<f4")),
        ("i64", "I64", (3,), np.asarray([-(2 ** 40), 2 ** 53, 0], dtype="<i8")),
        ("i32", "I32", (3,), np.asarray([-7, 0, 2147483647], dtype="<i4")),
        ("i16", "I16", (2,), np.asarray([-32768, 32767], dtype="<i2")),
        ("i8", "I8", (2,), np.asarray([-128, 127], dtype="i1")),
        ("u64", "U64", (2,), np.asarray([2 ** 64 - 1, 5], dtype="<u8")),
        ("u32", "U32", (1,), np.asarray([4294967295], dtype="<u4")),
        ("u16", "U16", (2,), np.asarray([65535, 1], dtype="<u2")),
        ("u8", "U8", (3,), np.asarray([0, 255, 7], dtype="u1")),
        ("bool", "BOOL", (3,), np.asarray([1, 0, 1], dtype="u1")),
        # e4m3fn: 1.0, 448 (max), -448, NaN, 2^-9 (smallest subnormal), 0.5 + 0.0625
        ("f8_e4m3", "F8_E4M3", (6,), np.asarray([0x38, 0x7E, 0xFE, 0x7F, 0x01, 0x31], dtype="u1")),
        # e5m2 (upper byte of a half): 1.0, 57344 (max), inf, 2^-16 (subnormal), -2.0
        ("f8_e5m2", "F8_E5M2", (5,), np.asarray([0x3C, 0x7B, 0x7C, 0x01, 0xC0], dtype="u1")),
    ]
    header, data, offset = {}, b"", 0
    for name, dtype, shape, arr in parts:
        raw = arr.tobytes()
        header[name] = entry(dtype, shape, offset, offset + len(raw))
        data += raw
        offset += len(raw)
    save("mixed_dtypes.safetensors", header, data)


# ------------------------------------------------------------------ malformed files

def malformed():
    w12 = f64(np.arange(12) * 0.5)
    # 5 bytes: not even the length prefix
    with open(os.path.join(OUT, "bad_truncated_prefix.safetensors"), "wb") as f:
        f.write(b"\x10\x00\x00\x00\x00")
    # length prefix points far beyond the end of the file
    save("bad_header_past_eof.safetensors", {"W": entry("F64", (12,), 0, 96)}, w12, length=9999999)
    # length prefix 2^64 - 1
    save("bad_header_length_huge.safetensors", {"W": entry("F64", (12,), 0, 96)}, w12, length=2 ** 64 - 1)
    # valid header, data cut short: 96 bytes declared, 40 present
    save("bad_truncated_data.safetensors", {"W": entry("F64", (12,), 0, 96)}, w12[:40])
    # W = [0, 96), b = [88, 120) share 8 bytes
    save("bad_overlap.safetensors",
         {"W": entry("F64", (12,), 0, 96), "b": entry("F64", (4,), 88, 120)}, f64(np.zeros(15)))
    # b ends at 200 in a 120-byte data section
    save("bad_offsets_past_end.safetensors",
         {"W": entry("F64", (10,), 0, 80), "b": entry("F64", (15,), 80, 200)}, f64(np.zeros(15)))
    save("bad_unknown_dtype.safetensors", {"W": entry("F7", (12,), 0, 96)}, w12)
    # 3 x 4 F64 needs 96 bytes, offsets give 80
    save("bad_shape_mismatch.safetensors", {"W": entry("F64", (3, 4), 0, 80)}, f64(np.zeros(10)))
    save("bad_negative_shape.safetensors", {"W": entry("F64", (3, -4), 0, 96)}, w12)
    save("bad_offsets_reversed.safetensors", {"W": entry("F64", (12,), 96, 0)}, w12)
    save("bad_missing_field.safetensors", {"W": {"dtype": "F64", "shape": [12]}}, w12)
    save("bad_metadata_not_string.safetensors",
         {"__metadata__": {"format": "pt", "step": 1200}, "W": entry("F64", (12,), 0, 96)}, w12)
    # JSON cut off in the middle of an object
    save("bad_not_json.safetensors", b'{"W": {"dtype": "F64", "shape": [12' + b" " * 4, w12)
    save("bad_not_object.safetensors", b"[1, 2, 3]" + b" " * 7, w12)
    # the same tensor name twice (json.dumps cannot produce this, so the text is written by hand)
    dup = b'{"W": {"dtype": "F64", "shape": [12], "data_offsets": [0, 96]}, ' \
          b'"W": {"dtype": "F64", "shape": [12], "data_offsets": [0, 96]}}'
    save("bad_duplicate_name.safetensors", dup + b" " * (-(8 + len(dup)) % 8), w12)
    # 0xFF can never occur in UTF-8
    bad = b'{"W\xff": {"dtype": "F64", "shape": [12], "data_offsets": [0, 96]}}'
    save("bad_header_not_utf8.safetensors", bad + b" " * (-(8 + len(bad)) % 8), w12)


if __name__ == "__main__":
    valid_f64()
    valid_f32()
    valid_f16()
    valid_f16_table()
    valid_bf16()
    valid_mixed()
    malformed()
