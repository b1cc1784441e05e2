package io.grokwatch.entk;

import io.grokwatch.linalg.Blas;
import io.grokwatch.linalg.Columns;
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

    static Eigenpairs top(Matrix f, int k, int vectors, io.grokwatch.linalg.Precision precision) {
        int n = f.rows();
        int r = f.cols();
        k = Math.min(k, n);
        vectors = Math.min(vectors, k);
        Eigenpairs dual = SymmetricEigen.top(Blas.gramOfColumns(f), Math.min(k, r), Math.min(vectors, r),
                precision);
        double[] values = new double[k];
        System.arraycopy(dual.values(), 0, values, 0, dual.values().length);
        // Vectors only up to the rank: past it the spectrum is zero and no eigenvector is meaningful.
        Matrix u = Columns.normaliseWithSign(f.times(dual.vectors()));
        return new Eigenpairs(values, u, dual.residual());
    }
}
