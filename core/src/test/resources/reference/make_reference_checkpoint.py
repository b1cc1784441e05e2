"""Writes a modular-addition checkpoint trained by an independent numpy implementation (the functions below,
written from the definitions in docs/science.md, sharing no code with the Java one) as safetensors, plus numpy's
eNTK numbers for it.

Usage: python3 make_reference_checkpoint.py [epochs] [seed] [p]   (defaults 100 0 29; needs numpy only)
Outputs: ma_p{p}_seed{seed}_epoch{epochs}.safetensors and the same name with .expected.json and .model.json.
The outputs are checked in; ReferenceCheckpointTest reads them and no test runs this script.
"""
import json, os, struct, sys
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def data(p):
    """All p^2 probes: inputs concat(one_hot(a), one_hot(b)), one-hot targets (a + b) mod p, and the tokens."""
    grid_a, grid_b = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
    a, b = grid_a.ravel(), grid_b.ravel()
    rows = np.arange(p * p)
    X = np.zeros((p * p, 2 * p))
    X[rows, a] = 1
    X[rows, p + b] = 1
    Y = np.zeros((p * p, p))
    Y[rows, (a + b) % p] = 1
    return X, Y, a, b


def forward(W1, W2, X, p):
    """f(x) = (1/H) W2 ((W1 x / sqrt(2p))^2): pre-activations, activations and outputs, one row per input."""
    H = W1.shape[0]
    pre = X @ W1.T / np.sqrt(2 * p)
    act = pre * pre
    return pre, act, act @ W2.T / H


def kernels(W1, W2, X, p):
    """The class-mean eNTK of each layer (net.0, net.3) over the inputs X, from the layer structure."""
    H, C = W1.shape[0], W2.shape[0]
    s = np.sqrt(2 * p)
    pre, act, _ = forward(W1, W2, X, p)
    K_readout = (act @ act.T) / H ** 2
    # d f_c / d W1[j, :] = (2 / (H s)) W2[c, j] pre_j(x) x, so the class mean weighs unit j by mean_c W2[c, j]^2.
    weighted = pre * np.sqrt((W2 * W2).sum(0) / C)[None, :]
    K_first = (X @ X.T) * (weighted @ weighted.T) * 4.0 / (H ** 2 * s ** 2)
    return K_first, K_readout


def fourier(v, p):
    """Orthonormal basis of the Fourier family of v: cos and sin of 2 pi k v / p for k = 1..p//2, centred."""
    columns = []
    for k in range(1, p // 2 + 1):
        angle = 2 * np.pi * k * (v % p) / p
        columns.append(np.cos(angle))
        columns.append(np.sin(angle))
    family = np.stack(columns, 1)
    family -= family.mean(0, keepdims=True)
    return np.linalg.qr(family)[0]


def overlap(Q, F):
    """Share of the orthonormal family F spanned by the columns of Q: ||orth(Q)^T F||_F^2 / f."""
    singular = np.linalg.svd(np.linalg.qr(Q)[0].T @ F, compute_uv=False)
    return float((singular ** 2).sum()) / F.shape[1]


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
    X, Y, a, b = data(p)
    N = p * p
    perm = rng.permutation(N)
    tr = perm[: int(N * alpha)]
    W1 = rng.standard_normal((H, 2 * p)); W2 = rng.standard_normal((p, H))
    params = [W1, W2]; m = [np.zeros_like(w) for w in params]; v = [np.zeros_like(w) for w in params]
    s = np.sqrt(2 * p)
    for ep in range(epochs):
        h, act, out = forward(W1, W2, X[tr], p)
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
    K1, K2 = kernels(W1, W2, data(p)[0], p)
    out = {"p": p, "epoch": epochs, "seed": seed}
    q = 2 * (p - 1)
    for name, K in (("all", K1 + K2), ("net.0", K1), ("net.3", K2)):
        w, V = np.linalg.eigh(K)
        w, V = w[::-1], V[:, ::-1]
        fam = {"n": fourier(a, p), "m": fourier(b, p), "sum": fourier(a + b, p), "diff": fourier(a - b, p)}
        out[name] = {
            "eigenvalues": [float(x) for x in w[:200]],
            "firstCliff": {k: overlap(V[:, 1:1 + q], F) for k, F in fam.items()},
            "secondCliff": {k: overlap(V[:, 1 + q:1 + 2 * q], F) for k, F in fam.items()},
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
