package io.grokwatch.linalg;

/**
 * Leading eigenpairs of a symmetric matrix.
 *
 * @param values    eigenvalues in descending order
 * @param vectors   n x v, column i is the unit eigenvector of {@code values[i]} (v may be less than
 *                  values.length when only the leading vectors were asked for); the sign is fixed so that
 *                  the entry of largest magnitude is positive, which makes results reproducible
 * @param residual  {@code ||A V - V diag(values)||_F / ||A V||_F} over the returned vectors: the quality of
 *                  the solve, 0 when no vector was computed
 */
public record Eigenpairs(double[] values, Matrix vectors, double residual) {
    public int count() {
        return values.length;
    }

    public int vectorCount() {
        return vectors.cols();
    }
}
