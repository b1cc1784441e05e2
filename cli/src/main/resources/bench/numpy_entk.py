"""The modular-addition eNTK analysis written plainly in numpy, as the peer of `grokwatch bench entk`.

Model: f(x) = (1/H) W2 (W1 x / sqrt(2p))^2, no biases, on all p^2 one-hot pairs (a, b) (row a*p + b).
Per checkpoint: the class-mean kernel of each layer, K_l(x, x') = (1/C) sum_c J_c^l(x) . J_c^l(x'), their sum,
one dense eigh of the sum, and the overlaps of both cliffs (eigenvectors 1..2(p-1) and 2(p-1)+1..4(p-1)) with
the Fourier families n, m, sum, diff. Training (experiment mode): full-batch AdamW on the mean MSE against
one-hot targets, step by step as grokwatch's trainer.

Usage:
  numpy_entk.py serve WEIGHTS P TOPK
      WEIGHTS: safetensors with W1 [H, 2p] and W2 [p, H] (F64). Prints {"ready": true}, then for every line read
      from stdin runs one timed analysis and prints its seconds, top eigenvalues and overlaps, so that the caller
      can interleave these runs with its own under the same machine load. Ends at end of input.
  numpy_entk.py experiment STATE P EPOCHS EVERY LR WEIGHT_DECAY TOPK
      STATE: safetensors with the initial W1, W2 and the training rows `train` (F64). Trains EPOCHS epochs and
      analyses epoch 0, every EVERY-th epoch and the last one, plus the train/test accuracy of each; prints one
      JSON line.
"""
import json
import struct
import sys
import time

import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + size])
    body = raw[8 + size:]
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        if t["dtype"] != "F64":
            raise SystemExit(f"{name}: expected F64, got {t['dtype']}")
        lo, hi = t["data_offsets"]
        out[name] = np.frombuffer(body[lo:hi], dtype=np.float64).reshape(t["shape"]).copy()
    return out


def one_hot_inputs(p):
    a = np.repeat(np.arange(p), p)
    b = np.tile(np.arange(p), p)
    x = np.zeros((p * p, 2 * p))
    x[np.arange(p * p), a] = 1.0
    x[np.arange(p * p), p + b] = 1.0
    return x, a, b


def family_bases(p, a, b):
    """Orthonormal N x (p-1) bases of the centred Fourier modes of n = a, m = b, sum and diff."""
    bases = {}
    k = np.arange(1, p // 2 + 1)
    for name, v in (("n", a), ("m", b), ("sum", (a + b) % p), ("diff", (a - b) % p)):
        angle = 2 * np.pi * np.outer(v, k) / p
        f = np.concatenate([np.cos(angle), np.sin(angle)], axis=1)
        f -= f.mean(axis=0)
        q, r = np.linalg.qr(f)
        bases[name] = q[:, np.abs(np.diag(r)) > 1e-10 * np.abs(r).max()]
    return bases


class Analysis:
    def __init__(self, p):
        self.p = p
        self.x, a, b = one_hot_inputs(p)
        self.xx = self.x @ self.x.T
        self.families = family_bases(p, a, b)
        self.labels = (a + b) % p

    def hidden(self, w1):
        return (self.x @ w1.T) / np.sqrt(2 * self.p)

    def kernels(self, w1, w2):
        width, classes = w1.shape[0], w2.shape[0]
        h = self.hidden(w1)
        act = h * h
        # Read-out: dF_c/dW2[c', j] = [c = c'] act_j / H, the same for every class.
        k2 = (act @ act.T) / width ** 2
        # First layer: dF_c/dW1[j, i] = 2 W2[c, j] h_j x_i / (H sqrt(2p)); the class mean weighs unit j by
        # mean_c W2[c, j]^2.
        g = h * np.sqrt((w2 * w2).mean(axis=0))
        k1 = self.xx * (g @ g.T) * (4.0 / (width ** 2 * 2 * self.p))
        return k1, k2

    def analyse(self, w1, w2, top_k):
        k1, k2 = self.kernels(w1, w2)
        values, vectors = np.linalg.eigh(k1 + k2)
        values, vectors = values[::-1], vectors[:, ::-1]
        q = 2 * (self.p - 1)
        cliffs = {"firstCliff": vectors[:, 1:1 + q], "secondCliff": vectors[:, 1 + q:1 + 2 * q]}
        overlaps = {c: {f: float(np.sum((v.T @ basis) ** 2) / basis.shape[1]) for f, basis in self.families.items()}
                    for c, v in cliffs.items()}
        return values[:top_k], overlaps

    def accuracies(self, w1, w2, *row_sets):
        """Accuracy on each set of rows, from one forward pass over all inputs."""
        h = self.hidden(w1)
        right = ((h * h) @ w2.T / w1.shape[0]).argmax(axis=1) == self.labels
        return [float(np.mean(right[rows])) for rows in row_sets]


def serve(path, p, top_k):
    w = read_safetensors(path)
    an = Analysis(p)
    print(json.dumps({"ready": True, "numpy": np.__version__}), flush=True)
    for _ in sys.stdin:
        t0 = time.perf_counter()
        values, overlaps = an.analyse(w["W1"], w["W2"], top_k)
        seconds = time.perf_counter() - t0
        print(json.dumps({"seconds": seconds, "eigenvalues": values.tolist(), "overlaps": overlaps}), flush=True)


def experiment(path, p, epochs, every, lr, weight_decay, top_k):
    t_start = time.perf_counter()
    st = read_safetensors(path)
    params = [st["W1"], st["W2"]]
    train = st["train"].astype(np.int64)
    an = Analysis(p)
    test = np.setdiff1d(np.arange(p * p), train)
    width = params[0].shape[0]
    s = np.sqrt(2 * p)
    xt = an.x[train]
    yt = np.zeros((train.size, p))
    yt[np.arange(train.size), an.labels[train]] = 1.0
    m = [np.zeros_like(w) for w in params]
    v = [np.zeros_like(w) for w in params]
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    checkpoints = []
    train_seconds = analysis_seconds = 0.0
    for epoch in range(epochs + 1):
        if epoch % every == 0 or epoch == epochs:
            t0 = time.perf_counter()
            values, overlaps = an.analyse(params[0], params[1], top_k)
            acc_train, acc_test = an.accuracies(params[0], params[1], train, test)
            checkpoints.append({"epoch": epoch, "trainAccuracy": acc_train, "testAccuracy": acc_test,
                                "eigenvalues": values.tolist(), "overlaps": overlaps})
            analysis_seconds += time.perf_counter() - t0
        if epoch == epochs:
            break
        t0 = time.perf_counter()
        w1, w2 = params
        h = (xt @ w1.T) / s
        act = h * h
        out = act @ w2.T / width
        grad_out = 2.0 * (out - yt) / out.size
        grad_w2 = grad_out.T @ act / width
        grad_h = (grad_out @ w2 / width) * 2.0 * h
        grad_w1 = grad_h.T @ xt / s
        t = epoch + 1
        for i, g in enumerate((grad_w1, grad_w2)):
            params[i] *= 1.0 - lr * weight_decay
            m[i] = beta1 * m[i] + (1.0 - beta1) * g
            v[i] = beta2 * v[i] + (1.0 - beta2) * g * g
            params[i] -= lr * (m[i] / (1.0 - beta1 ** t)) / (np.sqrt(v[i] / (1.0 - beta2 ** t)) + eps)
        train_seconds += time.perf_counter() - t0
    print(json.dumps({"seconds": time.perf_counter() - t_start, "trainSeconds": train_seconds,
                      "analysisSeconds": analysis_seconds, "checkpoints": checkpoints}))


def main():
    mode = sys.argv[1]
    if mode == "serve":
        serve(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif mode == "experiment":
        experiment(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]),
                   float(sys.argv[7]), int(sys.argv[8]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
