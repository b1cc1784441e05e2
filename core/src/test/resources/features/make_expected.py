"""Regenerates the expected numbers for io.grokwatch.features tests from the independent numpy reference.

Usage (from this directory): python3 make_expected.py
Writes, all as CSV with 17 significant digits:
  overlap_q.csv         49 x 10 matrix Q on the p=7 probe set (rows a*p + b), fixed seed
  overlap_expected.csv  family,overlap for n, m, sum, diff (ma_reference.fourier / ma_reference.overlap)
  tms_x.csv             D=12 x n=5 sparse, L2-normalised dataset (tms_reference.dataset)
  tms_u.csv             n*D=60 x 7 eigenvector-like matrix, channel-major rows c*D + x
  tms_expected.csv      5 x 7 heatmap (tms_reference.heatmap)
"""
import os, sys
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "..", "..", "shared", "reference"))
sys.path.insert(0, "/work/shared/reference")
from ma_reference import data, fourier, overlap
from tms_reference import dataset, heatmap


def save(name, m):
    np.savetxt(os.path.join(HERE, name), np.atleast_2d(m), delimiter=",", fmt="%.17g")


rng = np.random.default_rng(20251001)
p = 7
_, _, a, b = data(p)
F = {"n": fourier(a, p), "m": fourier(b, p), "sum": fourier(a + b, p), "diff": fourier(a - b, p)}
# Partly aligned with the families so the four overlaps differ and are far from 0 and 1.
signal = np.concatenate([F["n"][:, :4], F["sum"][:, :2], F["diff"][:, 2:3]], axis=1)
Q = rng.standard_normal((p * p, 10)) * 0.15
Q[:, :7] += signal @ rng.standard_normal((7, 7))
save("overlap_q.csv", Q)
with open(os.path.join(HERE, "overlap_expected.csv"), "w") as f:
    for name in ("n", "m", "sum", "diff"):
        f.write(f"{name},{overlap(Q, F[name]):.17g}\n")

X = dataset(rng, 12, 5, 0.5)
U = rng.standard_normal((5 * 12, 7))
U[:, 0] = 0.0                                    # an all-zero column stays all zero
save("tms_x.csv", X)
save("tms_u.csv", U)
save("tms_expected.csv", heatmap(X, U))
