"""Generates the optimizer fixtures that AdamWReferenceTest compares against.

Usage (from this directory): python3 adam_reference.py
Writes three files, one tensor per line: `name rows cols v0 v1 ...` (row-major, repr() doubles).

- optimizer.txt: AdamW (lr 0.05, wd 0.01) and Adam (lr 1e-3) for 5 steps on fixed tensors and a fixed gradient
  sequence; isolates the update rule.
- ma.txt: 5 full-batch training steps of the modular-addition MLP (p=5, H=8, alpha=0.7): forward pass, gradient
  and AdamW written out in numpy from the experiment's definition (docs/science.md), independently of the Java code.
- tms.txt: 5 full-batch Adam steps of the TMS model (n=6, m=3, D=20, S=0.5), likewise.

Needs numpy only; the fixtures are checked in and no test runs this script.
"""
import numpy as np


def write(path, tensors, header):
    with open(path, "w") as f:
        f.write("# " + header + "\n")
        for name, t in tensors:
            t = np.asarray(t, dtype=float)
            rows, cols = (1, t.size) if t.ndim <= 1 else t.shape
            f.write(f"{name} {rows} {cols} " + " ".join(repr(float(x)) for x in t.ravel()) + "\n")


def adamw(params, grads, m, v, t, lr, wd, b1=0.9, b2=0.999, eps=1e-8):
    """PyTorch's AdamW update with decoupled weight decay (t counts from 1)."""
    for i, (w, gw) in enumerate(zip(params, grads)):
        w *= (1 - lr * wd)
        m[i] = b1 * m[i] + (1 - b1) * gw; v[i] = b2 * v[i] + (1 - b2) * gw * gw
        mh = m[i] / (1 - b1 ** t); vh = v[i] / (1 - b2 ** t)
        w -= lr * mh / (np.sqrt(vh) + eps)


def optimizer_fixture():
    rng = np.random.default_rng(2024)
    out = []
    for label, lr, wd in (("adamw", 0.05, 0.01), ("adam", 1e-3, 0.0)):
        A = rng.standard_normal((3, 4)); b = rng.standard_normal(5)
        ps = [A, b]; m = [np.zeros_like(q) for q in ps]; v = [np.zeros_like(q) for q in ps]
        out += [(f"{label}.A.0", A.copy()), (f"{label}.b.0", b.copy())]
        for t in range(1, 6):
            gA = rng.standard_normal(A.shape) * 10.0 ** rng.integers(-6, 2)
            gb = rng.standard_normal(b.shape) * 10.0 ** rng.integers(-6, 2)
            if t == 3:
                gb[0] = 0.0
            out += [(f"{label}.gA.{t}", gA), (f"{label}.gb.{t}", gb)]
            adamw(ps, [gA, gb], m, v, t, lr, wd)
            out += [(f"{label}.A.{t}", A.copy()), (f"{label}.b.{t}", b.copy()),
                    (f"{label}.mA.{t}", m[0].copy()), (f"{label}.vA.{t}", v[0].copy())]
    write("optimizer.txt", out, "AdamW lr 0.05 wd 0.01 / Adam lr 1e-3; betas 0.9 0.999 eps 1e-8; 5 steps")


def ma_fixture(p=5, H=8, alpha=0.7, lr=0.05, wd=0.01, seed=0, steps=5):
    rng = np.random.default_rng(seed)
    a, b = np.meshgrid(np.arange(p), np.arange(p), indexing="ij"); a, b = a.ravel(), b.ravel()
    X = np.zeros((p * p, 2 * p)); X[np.arange(p * p), a] = 1; X[np.arange(p * p), p + b] = 1
    Y = np.zeros((p * p, p)); Y[np.arange(p * p), (a + b) % p] = 1
    perm = rng.permutation(p * p); ntr = int(p * p * alpha); tr = perm[:ntr]
    W1 = rng.standard_normal((H, 2 * p)); W2 = rng.standard_normal((p, H))
    params = [W1, W2]; m = [np.zeros_like(w) for w in params]; v = [np.zeros_like(w) for w in params]
    s = np.sqrt(2 * p)
    out = [("train", tr.astype(float)), ("W1.0", W1.copy()), ("W2.0", W2.copy())]
    for ep in range(steps):
        Xt, Yt = X[tr], Y[tr]
        h = Xt @ W1.T / s; act = h * h; o = act @ W2.T / H
        loss = float(((o - Yt) ** 2).mean())
        g = 2 * (o - Yt) / o.size
        gW2 = g.T @ act / H
        gh = (g @ W2 / H) * 2 * h
        gW1 = gh.T @ Xt / s
        adamw(params, [gW1, gW2], m, v, ep + 1, lr, wd)
        out += [(f"loss.{ep}", [loss]), (f"W1.{ep + 1}", W1.copy()), (f"W2.{ep + 1}", W2.copy())]
    write("ma.txt", out, f"modular addition p={p} H={H} alpha={alpha} lr={lr} wd={wd} seed={seed}")


def tms_fixture(n=6, m_=3, S=0.5, I=0.8, D=20, lr=1e-3, seed=0, steps=5):
    rng = np.random.default_rng(seed)
    x = rng.random((D, n)) * (rng.random((D, n)) < 1 - S)
    X = x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-8)
    W = rng.standard_normal((m_, n)) * np.sqrt(2.0 / (m_ + n)); b = rng.standard_normal(n) * 0.1
    imp = I ** np.arange(n)
    ps = [W, b]; ms = [np.zeros_like(q) for q in ps]; vs = [np.zeros_like(q) for q in ps]
    out = [("X", X), ("W.0", W.copy()), ("b.0", b.copy())]
    for t in range(1, steps + 1):
        h = X @ W.T; z = h @ W + b; y = np.maximum(z, 0)
        loss = float((imp * (y - X) ** 2).mean())
        gy = 2 * imp * (y - X) / y.size
        gz = gy * (z > 0)
        gW = h.T @ gz + (gz @ W.T).T @ X
        gb = gz.sum(0)
        for i, g in enumerate([gW, gb]):
            ms[i] = 0.9 * ms[i] + 0.1 * g; vs[i] = 0.999 * vs[i] + 0.001 * g * g
            ps[i] -= lr * (ms[i] / (1 - 0.9 ** t)) / (np.sqrt(vs[i] / (1 - 0.999 ** t)) + 1e-8)
        out += [(f"loss.{t - 1}", [loss]), (f"W.{t}", W.copy()), (f"b.{t}", b.copy())]
    write("tms.txt", out, f"TMS n={n} m={m_} S={S} I={I} D={D} lr={lr} seed={seed} (b drawn N(0, 0.01) to leave zero)")


if __name__ == "__main__":
    optimizer_fixture()
    ma_fixture()
    tms_fixture()
