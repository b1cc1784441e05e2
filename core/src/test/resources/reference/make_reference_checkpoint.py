"""Writes a modular-addition checkpoint trained by the independent numpy reference
(shared/reference/ma_reference.py) as safetensors, plus the reference's eNTK numbers for it.

Usage: python3 make_reference_checkpoint.py [epochs] [seed] [p]   (defaults 100 0 29)
Outputs: ma_p{p}_seed{seed}_epoch{epochs}.safetensors and the same name with .expected.json.
"""
import json, os, struct, sys
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "..", "shared", "reference"))
sys.path.insert(0, "/work/shared/reference")
import ma_reference as R


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {}, [], 0
    for name, arr in tensors.items():
        raw = np.ascontiguousarray(arr, dtype="<f8").tobytes()
        header[name] = {"dtype": "F64", "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def train(p, H, alpha, epochs, seed, lr=0.05, wd=0.01):
    rng = np.random.default_rng(seed)
    X, Y, a, b = R.data(p)
    N = p * p
    perm = rng.permutation(N)
    tr = perm[: int(N * alpha)]
    W1 = rng.standard_normal((H, 2 * p)); W2 = rng.standard_normal((p, H))
    params = [W1, W2]; m = [np.zeros_like(w) for w in params]; v = [np.zeros_like(w) for w in params]
    s = np.sqrt(2 * p)
    for ep in range(epochs):
        h, act, out = R.forward(W1, W2, X[tr], p)
        g = 2 * (out - Y[tr]) / out.size
        grads = [((g @ W2 / H) * 2 * h).T @ X[tr] / s, g.T @ act / H]
        for i, (w, gw) in enumerate(zip(params, grads)):
            w *= (1 - lr * wd)
            m[i] = 0.9 * m[i] + 0.1 * gw; v[i] = 0.999 * v[i] + 0.001 * gw * gw
            w -= lr * (m[i] / (1 - 0.9 ** (ep + 1))) / (np.sqrt(v[i] / (1 - 0.999 ** (ep + 1))) + 1e-8)
    return W1, W2, a, b


def main():
    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    p = int(sys.argv[3]) if len(sys.argv) > 3 else 29
    H = 512
    W1, W2, a, b = train(p, H, 0.7, epochs, seed)
    K1, K2 = R.kernels(W1, W2, R.data(p)[0], p)
    out = {"p": p, "epoch": epochs, "seed": seed}
    q = 2 * (p - 1)
    for name, K in (("all", K1 + K2), ("net.0", K1), ("net.3", K2)):
        w, V = np.linalg.eigh(K)
        w, V = w[::-1], V[:, ::-1]
        fam = {"n": R.fourier(a, p), "m": R.fourier(b, p), "sum": R.fourier(a + b, p), "diff": R.fourier(a - b, p)}
        out[name] = {
            "eigenvalues": [float(x) for x in w[:200]],
            "firstCliff": {k: R.overlap(V[:, 1:1 + q], F) for k, F in fam.items()},
            "secondCliff": {k: R.overlap(V[:, 1 + q:1 + 2 * q], F) for k, F in fam.items()},
            "endOfSecondCliff": float(w[2 * q] / w[2 * q + 1]),
        }
    stem = os.path.join(HERE, f"ma_p{p}_seed{seed}_epoch{epochs}")
    write_safetensors(stem + ".safetensors", {"net.0.weight": W1, "net.3.weight": W2},
                      {"epoch": str(epochs), "step": str(epochs), "writer": "numpy reference"})
    with open(stem + ".expected.json", "w") as f:
        json.dump(out, f, indent=1)
    with open(stem + ".model.json", "w") as f:
        json.dump({"format": "grokwatch.model/v1", "inputs": 2 * p, "ops": [
            {"op": "linear", "weight": "net.0.weight"}, {"op": "scale", "factor": 1 / np.sqrt(2 * p)},
            {"op": "square"}, {"op": "linear", "weight": "net.3.weight"}, {"op": "scale", "factor": 1 / H}]},
            f, indent=1)


if __name__ == "__main__":
    main()
