"""Regenerates the expected numbers for io.grokwatch.features tests with numpy, independently of the Java code.

Usage (from this directory): python3 make_expected.py   (needs numpy only)
Writes, all as CSV with 17 significant digits:
  overlap_q.csv         49 x 10 matrix Q on the p=7 probe set (rows a*p + b), fixed seed
  overlap_expected.csv  family,overlap for n, m, sum, diff (fourier_family / family_overlap below)
  tms_x.csv             D=12 x n=5 sparse, L2-normalised dataset (tms_dataset below)
  tms_u.csv             n*D=60 x 7 eigenvector-like matrix, channel-major rows c*D + x
  tms_expected.csv      5 x 7 heatmap (tms_heatmap below)

The numpy functions below follow the definitions in docs/science.md; the CSV files are checked in, and no test
runs this script.
"""
import os
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def probe_tokens(p):
    """The two tokens (a, b) of every probe, in the probe order a*p + b."""
    grid_a, grid_b = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
    return grid_a.ravel(), grid_b.ravel()


def fourier_family(v, p):
    """Orthonormal basis of the Fourier family of v: cos and sin of 2 pi k v / p for k = 1..p//2, centred."""
    columns = []
    for k in range(1, p // 2 + 1):
        angle = 2 * np.pi * k * (v % p) / p
        columns.append(np.cos(angle))
        columns.append(np.sin(angle))
    family = np.stack(columns, 1)
    family -= family.mean(0, keepdims=True)
    return np.linalg.qr(family)[0]


def family_overlap(Q, F):
    """Share of the orthonormal family F spanned by the columns of Q: ||orth(Q)^T F||_F^2 / f."""
    singular = np.linalg.svd(np.linalg.qr(Q)[0].T @ F, compute_uv=False)
    return float((singular ** 2).sum()) / F.shape[1]


def tms_dataset(rng, D, n, S):
    """D inputs of n features, each 0 with probability S, else uniform in [0, 1); rows L2-normalised."""
    values = rng.random((D, n))
    kept = rng.random((D, n)) < 1 - S
    x = values * kept
    return x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-8)


def tms_heatmap(X, U):
    """|z_j . u_i| with z_j feature j's values over the dataset in block j (normalised), columns normalised."""
    D, n = X.shape
    Z = np.zeros((n * D, n))
    for j in range(n):
        Z[j * D:(j + 1) * D, j] = X[:, j]
    Z /= np.linalg.norm(Z, axis=0) + 1e-10
    H = np.abs(Z.T @ U)
    return H / (np.linalg.norm(H, axis=0) + 1e-10)


def save(name, m):
    np.savetxt(os.path.join(HERE, name), np.atleast_2d(m), delimiter=",", fmt="%.17g")


rng = np.random.default_rng(20251001)
p = 7
a, b = probe_tokens(p)
F = {"n": fourier_family(a, p), "m": fourier_family(b, p), "sum": fourier_family(a + b, p),
     "diff": fourier_family(a - b, p)}
# Partly aligned with the families so the four overlaps differ and are far from 0 and 1.
signal = np.concatenate([F["n"][:, :4], F["sum"][:, :2], F["diff"][:, 2:3]], axis=1)
Q = rng.standard_normal((p * p, 10)) * 0.15
Q[:, :7] += signal @ rng.standard_normal((7, 7))
save("overlap_q.csv", Q)
with open(os.path.join(HERE, "overlap_expected.csv"), "w") as f:
    for name in ("n", "m", "sum", "diff"):
        f.write(f"{name},{family_overlap(Q, F[name]):.17g}\n")

X = tms_dataset(rng, 12, 5, 0.5)
U = rng.standard_normal((5 * 12, 7))
U[:, 0] = 0.0                                    # an all-zero column stays all zero
save("tms_x.csv", X)
save("tms_u.csv", U)
save("tms_expected.csv", tms_heatmap(X, U))
