package io.grokwatch.linalg;

/**
 * A symmetric linear map seen only through its products with blocks of vectors, so an eigensolver can work
 * on kernels that are never formed (or are cheaper to apply from their factors than as a dense matrix).
 */
public interface SymmetricOperator {
    /** The side n of the n x n map. */
    int size();

    /** {@code A X} for an n x b block {@code x}; returns a new n x b matrix. */
    Matrix apply(Matrix x);

    /** A formed symmetric matrix as an operator (one GEMM per block). */
    static SymmetricOperator of(Matrix a) {
        if (a.rows() != a.cols()) {
            throw new IllegalArgumentException("a symmetric operator needs a square matrix, got " + a.shape());
        }
        return new SymmetricOperator() {
            @Override
            public int size() {
                return a.rows();
            }

            @Override
            public Matrix apply(Matrix x) {
                return Blas.multiply(a, false, x, false);
            }
        };
    }
}
