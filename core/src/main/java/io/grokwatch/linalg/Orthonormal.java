package io.grokwatch.linalg;

/**
 * Orthonormal bases for column spans. Modified Gram-Schmidt with one full re-orthogonalisation pass
 * ("twice is enough"), so the result is orthonormal to rounding even for nearly dependent columns. Columns
 * that add (numerically) nothing to the span are dropped rather than normalised into noise, so the
 * number of returned columns is the numerical rank: subspace overlaps divide by it and must not count
 * directions that do not exist (e.g. the identically zero {@code sin(pi v)} column of an even modulus).
 */
public final class Orthonormal {
    /** Default: a column is dropped when what is left of it is below this share of the largest input column. */
    public static final double DEFAULT_RELATIVE_TOLERANCE = 1e-10;

    private Orthonormal() {
    }

    /** An orthonormal basis (n x r, r = numerical rank) of the span of {@code a}'s columns, in column order. */
    public static Matrix columns(Matrix a) {
        return columns(a, DEFAULT_RELATIVE_TOLERANCE);
    }

    /**
     * An orthonormal basis of the span of {@code a}'s columns. Column {@code j} of the result is the
     * normalised part of the {@code j}-th kept input column orthogonal to the earlier ones (the Q of a thin QR
     * with positive diagonal R), so a basis that is already orthonormal comes back unchanged.
     *
     * @param relativeTolerance a column is dropped when the norm of its orthogonal remainder is below
     *                          {@code relativeTolerance} times the largest input column norm
     */
    public static Matrix columns(Matrix a, double relativeTolerance) {
        if (!(relativeTolerance >= 0 && relativeTolerance < 1)) {
            throw new IllegalArgumentException("relative tolerance must be in [0, 1), got " + relativeTolerance);
        }
        int n = a.rows();
        int k = a.cols();
        // Work on the transpose: each column becomes a contiguous row.
        double[] t = a.transpose().data();
        double maxNorm = 0;
        for (int j = 0; j < k; j++) {
            maxNorm = Math.max(maxNorm, norm(t, j * n, n));
        }
        double cutoff = relativeTolerance * maxNorm;
        int kept = 0;
        for (int j = 0; j < k; j++) {
            int src = j * n;
            for (int pass = 0; pass < 2; pass++) {
                for (int q = 0; q < kept; q++) {
                    int base = q * n;
                    double dot = 0;
                    for (int i = 0; i < n; i++) {
                        dot += t[base + i] * t[src + i];
                    }
                    for (int i = 0; i < n; i++) {
                        t[src + i] -= dot * t[base + i];
                    }
                }
            }
            double norm = norm(t, src, n);
            if (norm <= cutoff || norm == 0) {
                continue;
            }
            int dst = kept * n;
            double inv = 1.0 / norm;
            for (int i = 0; i < n; i++) {
                t[dst + i] = t[src + i] * inv;
            }
            kept++;
        }
        Matrix q = new Matrix(n, kept);
        double[] qd = q.data();
        for (int j = 0; j < kept; j++) {
            int base = j * n;
            for (int i = 0; i < n; i++) {
                qd[i * kept + j] = t[base + i];
            }
        }
        return q;
    }

    /** {@code max |Q^T Q - I|}: how far {@code q}'s columns are from orthonormal. */
    public static double orthonormalityError(Matrix q) {
        Matrix g = q.transposeTimes(q);
        double worst = 0;
        for (int i = 0; i < g.rows(); i++) {
            for (int j = 0; j < g.cols(); j++) {
                worst = Math.max(worst, Math.abs(g.get(i, j) - (i == j ? 1.0 : 0.0)));
            }
        }
        return worst;
    }

    private static double norm(double[] v, int from, int len) {
        double s = 0;
        for (int i = 0; i < len; i++) {
            double x = v[from + i];
            s += x * x;
        }
        return Math.sqrt(s);
    }
}
