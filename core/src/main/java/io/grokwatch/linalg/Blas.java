package io.grokwatch.linalg;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas;

import static io.grokwatch.linalg.NativeBlocks.view;

/**
 * Level-3 BLAS on {@link Matrix}, through the OpenBLAS build that ND4J ships (JavaCPP bindings).
 * Products too small to amortise the copy into native memory run in plain Java.
 */
public final class Blas {
    /** Below this many multiply-adds the JNI round trip costs more than the loop. */
    private static final long NATIVE_THRESHOLD = 32L * 32 * 32;

    private Blas() {
    }

    /** {@code op(a) * op(b)} where op transposes when asked. */
    public static Matrix multiply(Matrix a, boolean transA, Matrix b, boolean transB) {
        Matrix c = productOf(a, transA, b, transB);
        gemm(1.0, a, transA, b, transB, 0.0, c);
        return c;
    }

    /** The zero matrix of {@code op(a) * op(b)}'s shape, or an error naming both shapes. */
    private static Matrix productOf(Matrix a, boolean transA, Matrix b, boolean transB) {
        int k = transA ? a.rows() : a.cols();
        int kb = transB ? b.cols() : b.rows();
        if (k != kb) {
            throw new IllegalArgumentException("cannot multiply " + a.shape() + (transA ? "^T" : "") + " by "
                    + b.shape() + (transB ? "^T" : ""));
        }
        return new Matrix(transA ? a.cols() : a.rows(), transB ? b.rows() : b.cols());
    }

    /**
     * {@code op(a) * op(b)} in the given arithmetic: {@link Precision#FLOAT32} rounds both factors to float32 and
     * runs the GEMM in float32 (the result is widened back, with a relative error of order 1e-7 per product).
     */
    public static Matrix multiply(Matrix a, boolean transA, Matrix b, boolean transB, Precision precision) {
        if (precision == Precision.FLOAT64) {
            return multiply(a, transA, b, transB);
        }
        Matrix c = productOf(a, transA, b, transB);
        int m = c.rows();
        int n = c.cols();
        int k = transA ? a.rows() : a.cols();
        if (m == 0 || n == 0 || k == 0) {
            return c;
        }
        try (FloatPointer pa = SinglePrecisionOperators.rounded(a.data());
             FloatPointer pb = SinglePrecisionOperators.rounded(b.data());
             FloatPointer pc = new FloatPointer((long) m * n)) {
            openblas.cblas_sgemm(openblas.CblasRowMajor,
                    transA ? openblas.CblasTrans : openblas.CblasNoTrans,
                    transB ? openblas.CblasTrans : openblas.CblasNoTrans,
                    m, n, k, 1f, pa, a.cols(), pb, b.cols(), 0f, pc, n);
            SinglePrecisionOperators.widenInto(pc, c.data());
        }
        return c;
    }

    /** {@code c = alpha * op(a) * op(b) + beta * c}. */
    public static void gemm(double alpha, Matrix a, boolean transA, Matrix b, boolean transB, double beta, Matrix c) {
        int m = transA ? a.cols() : a.rows();
        int k = transA ? a.rows() : a.cols();
        int kb = transB ? b.cols() : b.rows();
        int n = transB ? b.rows() : b.cols();
        if (k != kb || c.rows() != m || c.cols() != n) {
            throw new IllegalArgumentException("gemm shapes " + a.shape() + (transA ? "^T" : "") + " * "
                    + b.shape() + (transB ? "^T" : "") + " -> " + c.shape());
        }
        if (m == 0 || n == 0) {
            return;
        }
        if ((long) m * n * k < NATIVE_THRESHOLD) {
            javaGemm(alpha, a, transA, b, transB, beta, c, m, n, k);
            return;
        }
        NativeScratch scratch = NativeScratch.get();
        DoublePointer pa = scratch.copyOf(0, a.data());
        DoublePointer pb = a == b ? pa : scratch.copyOf(1, b.data());
        DoublePointer pc = beta == 0.0 ? scratch.buffer(2, (long) m * n) : scratch.copyOf(2, c.data());
        openblas.cblas_dgemm(openblas.CblasRowMajor,
                transA ? openblas.CblasTrans : openblas.CblasNoTrans,
                transB ? openblas.CblasTrans : openblas.CblasNoTrans,
                m, n, k, alpha, pa, a.cols(), pb, b.cols(), beta, pc, n);
        pc.get(c.data());
    }

    /**
     * {@code u[:, 0:k]^T v[:, 0:k]} (k x k) for two matrices with the same rows, without copying the leading columns
     * out, and split by rows over two cores when one is free: at p = 113 the 12,769 x 450 cross product of two
     * checkpoints' eigenvectors (eigenspace drift) is the longest step after the whole-model solve.
     */
    public static Matrix leadingCross(Matrix u, Matrix v, int k) {
        int n = u.rows();
        if (v.rows() != n || k < 0 || k > u.cols() || k > v.cols()) {
            throw new IllegalArgumentException("cannot cross the first " + k + " columns of " + u.shape() + " and "
                    + v.shape());
        }
        Matrix c = new Matrix(k, k);
        if (k == 0 || n == 0) {
            return c;
        }
        int mid = TwoWay.worthSplitting((long) n * k * k) ? TwoWay.middle(n) : n;
        try (DoublePointer pu = new DoublePointer(u.data()); DoublePointer pv = new DoublePointer(v.data());
             DoublePointer c1 = new DoublePointer((long) k * k); DoublePointer c2 = new DoublePointer((long) k * k)) {
            Runnable top = () -> crossRows(pu, u.cols(), pv, v.cols(), k, 0, mid, c1);
            if (mid < n) {
                TwoWay.run(top, () -> crossRows(pu, u.cols(), pv, v.cols(), k, mid, n, c2));
                openblas.cblas_daxpy(k * k, 1.0, c2, 1, c1, 1);
            } else {
                top.run();
            }
            c1.get(c.data());
        }
        return c;
    }

    /** {@code out = u[from:to, 0:k]^T v[from:to, 0:k]}. */
    private static void crossRows(DoublePointer u, int ldu, DoublePointer v, int ldv, int k, int from, int to,
                                  DoublePointer out) {
        openblas.cblas_dgemm(openblas.CblasRowMajor, openblas.CblasTrans, openblas.CblasNoTrans, k, k, to - from, 1.0,
                view(u, (long) from * ldu), ldu, view(v, (long) from * ldv),
                ldv, 0.0, out, k);
    }

    /** {@code a * a^T} (symmetric, both triangles filled). */
    public static Matrix gram(Matrix a) {
        int n = a.rows();
        int k = a.cols();
        Matrix c = new Matrix(n, n);
        if (n == 0) {
            return c;
        }
        if ((long) n * n * k < NATIVE_THRESHOLD) {
            javaGemm(1.0, a, false, a, true, 0.0, c, n, n, k);
            return c;
        }
        NativeScratch scratch = NativeScratch.get();
        DoublePointer pa = scratch.copyOf(0, a.data());
        DoublePointer pc = scratch.buffer(2, (long) n * n);
        openblas.cblas_dsyrk(openblas.CblasRowMajor, openblas.CblasUpper, openblas.CblasNoTrans,
                n, k, 1.0, pa, k, 0.0, pc, n);
        pc.get(c.data());
        return mirrorUpper(c);
    }

    /** {@code A^T A} (the dual of {@link #gram}), by one symmetric rank-k update: half a general product. */
    public static Matrix gramOfColumns(Matrix a) {
        int n = a.cols();
        int k = a.rows();
        if ((long) n * n * k < NATIVE_THRESHOLD) {
            return multiply(a, true, a, false);
        }
        Matrix c = new Matrix(n, n);
        NativeScratch scratch = NativeScratch.get();
        DoublePointer pa = scratch.copyOf(0, a.data());
        DoublePointer pc = scratch.buffer(2, (long) n * n);
        openblas.cblas_dsyrk(openblas.CblasRowMajor, openblas.CblasUpper, openblas.CblasTrans,
                n, k, 1.0, pa, n, 0.0, pc, n);
        pc.get(c.data());
        return mirrorUpper(c);
    }

    /** Copies the upper triangle (what {@code dsyrk} wrote) onto the lower one. */
    private static Matrix mirrorUpper(Matrix c) {
        int n = c.rows();
        double[] d = c.data();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < i; j++) {
                d[i * n + j] = d[j * n + i];
            }
        }
        return c;
    }

    private static void javaGemm(double alpha, Matrix a, boolean transA, Matrix b, boolean transB, double beta,
                                 Matrix c, int m, int n, int k) {
        double[] ad = a.data();
        double[] bd = b.data();
        double[] cd = c.data();
        int lda = a.cols();
        int ldb = b.cols();
        double[] acc = new double[n];
        for (int i = 0; i < m; i++) {
            java.util.Arrays.fill(acc, 0.0);
            for (int p = 0; p < k; p++) {
                double av = transA ? ad[p * lda + i] : ad[i * lda + p];
                if (av == 0.0) {
                    continue;
                }
                if (transB) {
                    for (int j = 0; j < n; j++) {
                        acc[j] += av * bd[j * ldb + p];
                    }
                } else {
                    int base = p * ldb;
                    for (int j = 0; j < n; j++) {
                        acc[j] += av * bd[base + j];
                    }
                }
            }
            int row = i * n;
            for (int j = 0; j < n; j++) {
                cd[row + j] = alpha * acc[j] + (beta == 0.0 ? 0.0 : beta * cd[row + j]);
            }
        }
    }
}
