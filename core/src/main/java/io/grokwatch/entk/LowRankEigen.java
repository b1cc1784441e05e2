package io.grokwatch.entk;

import io.grokwatch.linalg.Blas;
import io.grokwatch.linalg.Eigenpairs;
import io.grokwatch.linalg.Matrix;
import io.grokwatch.linalg.SymmetricEigen;

/**
 * Eigenpairs of {@code F F^T} (N x N) from the r x r dual {@code F^T F}: the non-zero spectra agree and
 * eigenvectors map as {@code u = F v / sqrt(lambda)}. Eigenvalues past the rank are zero.
 */
final class LowRankEigen {
    private LowRankEigen() {
    }

    static Eigenpairs top(Matrix f, int k, int vectors) {
        int n = f.rows();
        int r = f.cols();
        k = Math.min(k, n);
        vectors = Math.min(vectors, k);
        Eigenpairs dual = SymmetricEigen.top(Blas.multiply(f, true, f, false), Math.min(k, r), Math.min(vectors, r));
        double[] values = new double[k];
        System.arraycopy(dual.values(), 0, values, 0, dual.values().length);
        Matrix u = new Matrix(n, vectors);
        Matrix mapped = f.times(dual.vectors());
        int mv = mapped.cols();
        double[] md = mapped.data();
        double[] ud = u.data();
        for (int j = 0; j < mv; j++) {
            double norm = 0;
            double best = 0;
            for (int i = 0; i < n; i++) {
                double v = md[i * mv + j];
                norm += v * v;
                if (Math.abs(v) > Math.abs(best)) {
                    best = v;
                }
            }
            double scale = (best < 0 ? -1.0 : 1.0) / Math.sqrt(Math.max(norm, Double.MIN_NORMAL));
            for (int i = 0; i < n; i++) {
                ud[i * vectors + j] = md[i * mv + j] * scale;
            }
        }
        // Vectors beyond the rank (null space) are not meaningful for analysis; they stay zero.
        return new Eigenpairs(values, u, dual.residual());
    }
}
