package io.grokwatch.linalg;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.openblas.global.openblas;

import static io.grokwatch.linalg.NativeBlocks.view;

/**
 * A formed symmetric matrix as an operator: one GEMM per block, over a native copy of the matrix made once (not
 * once per product), split by rows over two threads when a core is free ({@link TwoWay}). An iterative solve of
 * a TMS dual Gram (2,050 x 2,050) spends most of its time in these products, and nothing else runs beside it.
 */
final class FormedOperator implements SymmetricOperator {
    private final Matrix a;
    private DoublePointer copy;

    FormedOperator(Matrix a) {
        if (a.rows() != a.cols()) {
            throw new IllegalArgumentException("a symmetric operator needs a square matrix, got " + a.shape());
        }
        this.a = a;
    }

    @Override
    public int size() {
        return a.rows();
    }

    @Override
    public Matrix apply(Matrix x) {
        return NativeBlocks.apply(this, x);
    }

    @Override
    public void applyTo(DoublePointer x, int b, DoublePointer y) {
        int n = a.rows();
        if (b == 0) {
            return;
        }
        DoublePointer m = matrix();
        int mid = TwoWay.worthSplitting((long) n * n * b) ? TwoWay.middle(n) : n;
        if (mid < n) {
            TwoWay.run(() -> rows(m, x, y, 0, mid, b), () -> rows(m, x, y, mid, n, b));
        } else {
            rows(m, x, y, 0, n, b);
        }
    }

    /** Rows [from, to) of {@code A X}. */
    private void rows(DoublePointer m, DoublePointer x, DoublePointer y, int from, int to, int b) {
        int n = a.rows();
        openblas.cblas_dgemm(openblas.CblasRowMajor, openblas.CblasNoTrans, openblas.CblasNoTrans,
                to - from, b, n, 1.0, view(m, (long) from * n), n, x, b, 0.0, view(y, (long) from * b), b);
    }

    @Override
    public void addUpperTo(DoublePointer k, double scale) {
        int n = a.rows();
        java.nio.DoubleBuffer out = FormedUpper.buffer(k, n);
        double[] d = a.data();
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                int at = i * n + j;
                out.put(at, out.get(at) + scale * d[at]);
            }
        }
    }

    @Override
    public java.util.Optional<SymmetricOperator> inFloat32() {
        return java.util.Optional.of(SinglePrecisionOperators.formed(a));
    }

    private synchronized DoublePointer matrix() {
        if (copy == null) {
            copy = new DoublePointer(a.data());
        }
        return copy;
    }
}
