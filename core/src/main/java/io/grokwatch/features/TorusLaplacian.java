package io.grokwatch.features;

import io.grokwatch.linalg.Matrix;

/**
 * The circulant graph Laplacian {@code L = 2I - S(dx,dy) - S(-dx,-dy)} on the {@code p x p} torus of inputs
 * {@code (a, b)}, where {@code S(dx,dy)} moves {@code (a, b)} to {@code (a+dx, b+dy) mod p}. A function of
 * {@code v(a,b)} that is constant along the step direction has energy 0; the mode {@code cos(2 pi k v/p)} that
 * changes by {@code delta} along a step has energy {@code 2 - 2cos(2 pi k delta/p)}. Applied as a stencil,
 * never as a dense {@code p^2 x p^2} matrix.
 */
public final class TorusLaplacian {
    private final int p;
    private final int dx;
    private final int dy;
    private final String name;

    private TorusLaplacian(int p, int dx, int dy, String name) {
        if (p < 2) {
            throw new IllegalArgumentException("torus side p must be >= 2, got " + p);
        }
        this.p = p;
        this.dx = dx;
        this.dy = dy;
        this.name = name;
    }

    /** {@code L_n = L1 (x) I}: steps in {@code a}; zero on the m family, resolves n frequencies. */
    public static TorusLaplacian alongN(int p) {
        return new TorusLaplacian(p, 1, 0, "L_n");
    }

    /** {@code L_m = I (x) L1}: steps in {@code b}; zero on the n family. */
    public static TorusLaplacian alongM(int p) {
        return new TorusLaplacian(p, 0, 1, "L_m");
    }

    /** {@code L_sum}, steps {@code (+1,+1)}: zero on the diff family, {@code a+b} moves by 2. */
    public static TorusLaplacian alongSum(int p) {
        return new TorusLaplacian(p, 1, 1, "L_sum");
    }

    /** {@code L_diff}, steps {@code (+1,-1)}: zero on the sum family, {@code a-b} moves by 2. */
    public static TorusLaplacian alongDiff(int p) {
        return new TorusLaplacian(p, 1, -1, "L_diff");
    }

    public int p() {
        return p;
    }

    public String name() {
        return name;
    }

    /** {@code L u} for every column of {@code u} ({@code p^2 x d}, rows in probe order {@code a p + b}). */
    public Matrix apply(Matrix u) {
        int n = p * p;
        if (u.rows() != n) {
            throw new IllegalArgumentException(name + " acts on " + n + " probe rows (p=" + p + "), got " + u.shape());
        }
        int d = u.cols();
        double[] in = u.data();
        Matrix out = new Matrix(n, d);
        double[] o = out.data();
        for (int a = 0; a < p; a++) {
            int aPlus = Math.floorMod(a + dx, p);
            int aMinus = Math.floorMod(a - dx, p);
            for (int b = 0; b < p; b++) {
                int row = (a * p + b) * d;
                int plus = (aPlus * p + Math.floorMod(b + dy, p)) * d;
                int minus = (aMinus * p + Math.floorMod(b - dy, p)) * d;
                for (int j = 0; j < d; j++) {
                    o[row + j] = 2 * in[row + j] - in[plus + j] - in[minus + j];
                }
            }
        }
        return out;
    }

    /** {@code Q^T L Q}, the Laplacian restricted to the span of {@code q} (symmetrised against rounding). */
    public Matrix restrictedTo(Matrix q) {
        Matrix r = q.transposeTimes(apply(q));
        int d = r.rows();
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < i; j++) {
                double mean = 0.5 * (r.get(i, j) + r.get(j, i));
                r.set(i, j, mean);
                r.set(j, i, mean);
            }
        }
        return r;
    }

    @Override
    public String toString() {
        return name + "(p=" + p + ")";
    }
}
