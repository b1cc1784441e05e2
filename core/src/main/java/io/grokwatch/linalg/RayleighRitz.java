package io.grokwatch.linalg;

import java.util.Arrays;

/**
 * How good a subspace is as a set of eigenvectors of an operator: the Ritz pairs of the operator projected onto
 * it and each pair's relative residual {@code ||A u - theta u|| / theta}, from one block of products. This is
 * what a warm start hands an iterative solver (the previous checkpoint's eigenvectors under the new kernel), so
 * it measures how many decades of residual a warm start saves.
 */
public final class RayleighRitz {
    /**
     * @param values    Ritz values, descending
     * @param residuals relative residual of each Ritz pair, in the same order
     */
    public record Result(double[] values, double[] residuals) {
        public double worstResidual() {
            return Arrays.stream(residuals).max().orElse(0.0);
        }

        public double medianResidual() {
            if (residuals.length == 0) {
                return 0.0;
            }
            double[] s = residuals.clone();
            Arrays.sort(s);
            int m = s.length / 2;
            return s.length % 2 == 1 ? s[m] : 0.5 * (s[m - 1] + s[m]);
        }
    }

    private RayleighRitz() {
    }

    /** Ritz pairs of {@code a} on the span of {@code basis}'s columns (orthonormalised first). */
    public static Result of(SymmetricOperator a, Matrix basis) {
        if (basis.rows() != a.size()) {
            throw new IllegalArgumentException("basis " + basis.shape() + " for an operator of side " + a.size());
        }
        Matrix q = Orthonormal.columns(basis);
        if (q.cols() == 0) {
            return new Result(new double[0], new double[0]);
        }
        Matrix aq = a.apply(q);
        Matrix h = TopEigenSolver.symmetrise(Blas.multiply(q, true, aq, false));
        Eigenpairs e = SymmetricEigen.full(h);
        Matrix u = Blas.multiply(q, false, e.vectors(), false);
        Matrix au = Blas.multiply(aq, false, e.vectors(), false);
        double[] values = e.values();
        return new Result(values, relativeResiduals(au, u, values));
    }

    /**
     * {@code ||A u_j - lambda_j u_j|| / |lambda_j|} for each column of {@code u}, given {@code au = A u}; eigenvalues
     * below {@link TopEigenSolver#ZERO_EIGENVALUE} of the largest are measured against that floor.
     */
    public static double[] relativeResiduals(Matrix au, Matrix u, double[] values) {
        int m = u.cols();
        double[] sum = new double[m];
        double[] ad = au.data();
        double[] ud = u.data();
        for (int i = 0; i < u.rows(); i++) {
            for (int j = 0; j < m; j++) {
                double r = ad[i * m + j] - values[j] * ud[i * m + j];
                sum[j] += r * r;
            }
        }
        double scale = m == 0 ? 0 : Math.abs(values[0]);
        double[] residuals = new double[m];
        for (int j = 0; j < m; j++) {
            residuals[j] = Math.sqrt(sum[j]) / Math.max(Math.abs(values[j]),
                    TopEigenSolver.ZERO_EIGENVALUE * scale + Double.MIN_NORMAL);
        }
        return residuals;
    }
}
