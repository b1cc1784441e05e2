package io.grokwatch.linalg;

import java.util.Optional;

/**
 * {@code (F F^T) ⊙ (A A^T)} when {@code A} is sparse, as {@code sum_f (diag(a_f) F)(diag(a_f) F)^T} over the
 * columns {@code f} of {@code A}: each column adds the Gram of only the rows where it is non-zero. For a layer
 * fed one-hot inputs (the modular-addition embedding: 2 of 2p entries set) this touches the
 * {@code 2p} blocks of {@code p x p} probe pairs that share an input token instead of the whole
 * {@code N x N} Gram of {@code F}: {@code 4 p^3 r} flops instead of {@code p^4 r}.
 */
public final class SparseHadamardGram {
    /** The sparse route is taken when it needs at most this share of the dense route's multiply-adds. */
    static final double MAX_COST_SHARE = 0.5;

    private SparseHadamardGram() {
    }

    /**
     * The product, or empty when {@code A} is too dense for the sparse route to pay (then the caller forms
     * both Grams and multiplies them element-wise).
     *
     * @param f N x r (the output-gradient factor)
     * @param a N x d (the activation the parameter multiplies)
     */
    public static Optional<Matrix> of(Matrix f, Matrix a) {
        int n = f.rows();
        if (a.rows() != n) {
            throw new IllegalArgumentException("factor " + f.shape() + " and activation " + a.shape()
                    + " need the same rows");
        }
        int d = a.cols();
        int r = f.cols();
        int[] count = new int[d];
        double[] ad = a.data();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                if (ad[i * d + j] != 0.0) {
                    count[j]++;
                }
            }
        }
        double sparse = 0;
        for (int c : count) {
            sparse += (double) c * c * r;
        }
        // Dense: the N x N Grams of both factors (symmetric rank-k updates, half the products each).
        double dense = (double) n * n * (r + d) / 2.0;
        if (n == 0 || sparse > MAX_COST_SHARE * dense) {
            return Optional.empty();
        }
        Matrix k = new Matrix(n, n);
        double[] kd = k.data();
        double[] fd = f.data();
        int[] rows = new int[n];
        for (int col = 0; col < d; col++) {
            int s = 0;
            for (int i = 0; i < n; i++) {
                if (ad[i * d + col] != 0.0) {
                    rows[s++] = i;
                }
            }
            if (s == 0) {
                continue;
            }
            Matrix g = new Matrix(s, r);
            double[] gd = g.data();
            for (int t = 0; t < s; t++) {
                double scale = ad[rows[t] * d + col];
                int src = rows[t] * r;
                for (int q = 0; q < r; q++) {
                    gd[t * r + q] = scale * fd[src + q];
                }
            }
            double[] block = Blas.gram(g).data();
            for (int u = 0; u < s; u++) {
                int dst = rows[u] * n;
                for (int v = 0; v < s; v++) {
                    kd[dst + rows[v]] += block[u * s + v];
                }
            }
        }
        return Optional.of(k);
    }
}
