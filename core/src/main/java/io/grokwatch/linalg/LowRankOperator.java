package io.grokwatch.linalg;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.openblas.global.openblas;

import static io.grokwatch.linalg.NativeBlocks.view;

/**
 * {@code F F^T} from its n x r factor as an operator: two thin GEMMs per block over a native copy of F made once and of
 * its transpose (a p = 113 read-out factor is 12,769 x 512, 52 MB; copying it into native memory for each of the two
 * GEMMs of every block cost a large share of the product's time once the GEMMs ran on AVX-512 kernels), each split by
 * rows of F over two threads when a core is free ({@link TwoWay}: the whole-model solve outlasts the layer solves
 * beside it).
 */
final class LowRankOperator implements SymmetricOperator {
    private final Matrix f;
    private DoublePointer copy;
    /** F^T (r x n): {@code F^T X} reads it untransposed, which OpenBLAS runs faster for thin X (see the benchmarks). */
    private DoublePointer transposedCopy;

    LowRankOperator(Matrix f) {
        this.f = f;
    }

    @Override
    public int size() {
        return f.rows();
    }

    @Override
    public Matrix apply(Matrix x) {
        return NativeBlocks.apply(this, x);
    }

    @Override
    public void applyTo(DoublePointer px, int b, DoublePointer pz) {
        int n = f.rows();
        int r = f.cols();
        if (b == 0) {
            return;
        }
        if (r == 0) {
            new DoublePointer(pz).put(new double[n * b], 0, n * b);
            return;
        }
        DoublePointer pf = factor();
        DoublePointer pt = transposedFactor();
        try (DoublePointer py = new DoublePointer((long) r * b)) {
            int mid = TwoWay.worthSplitting((long) n * r * b) ? TwoWay.middle(n) : n;
            if (mid < n) {
                // Y = F^T X as the sum of the two row halves' products, then each half of F Y.
                try (DoublePointer py2 = new DoublePointer((long) r * b)) {
                    TwoWay.run(() -> transposeTimes(pt, px, py, 0, mid, n, r, b),
                            () -> transposeTimes(pt, px, py2, mid, n, n, r, b));
                    openblas.cblas_daxpy(r * b, 1.0, py2, 1, py, 1);
                }
                TwoWay.run(() -> times(pf, py, pz, 0, mid, r, b), () -> times(pf, py, pz, mid, n, r, b));
            } else {
                transposeTimes(pt, px, py, 0, n, n, r, b);
                times(pf, py, pz, 0, n, r, b);
            }
        }
    }

    /** {@code y = F[from:to]^T X[from:to]} (r x b) from the stored transpose {@code ft} (r x n). */
    private static void transposeTimes(DoublePointer ft, DoublePointer x, DoublePointer y, int from, int to, int n,
                                       int r, int b) {
        openblas.cblas_dgemm(openblas.CblasRowMajor, openblas.CblasNoTrans, openblas.CblasNoTrans, r, b, to - from,
                1.0, view(ft, from), n, view(x, (long) from * b), b, 0.0, y, b);
    }

    /** Rows [from, to) of {@code Z = F Y}. */
    private static void times(DoublePointer f, DoublePointer y, DoublePointer z, int from, int to, int r, int b) {
        openblas.cblas_dgemm(openblas.CblasRowMajor, openblas.CblasNoTrans, openblas.CblasNoTrans, to - from, b, r, 1.0,
                view(f, (long) from * r), r, y, b, 0.0, view(z, (long) from * b), b);
    }

    /** One symmetric rank-r update, {@code K += scale F F^T} (upper triangle), from a scratch copy of F. */
    @Override
    public void addUpperTo(DoublePointer k, double scale) {
        int n = f.rows();
        int r = f.cols();
        if (n == 0 || r == 0) {
            return;
        }
        DoublePointer pf = copy != null ? copy : NativeScratch.get().copyOf(0, f.data());
        openblas.cblas_dsyrk(openblas.CblasRowMajor, openblas.CblasUpper, openblas.CblasNoTrans, n, r, scale, pf, r,
                1.0, k, n);
    }

    @Override
    public java.util.Optional<SymmetricOperator> inFloat32() {
        return java.util.Optional.of(SinglePrecisionOperators.lowRank(f));
    }

    private synchronized DoublePointer transposedFactor() {
        if (transposedCopy == null) {
            transposedCopy = new DoublePointer(f.transpose().data());
        }
        return transposedCopy;
    }

    private synchronized DoublePointer factor() {
        if (copy == null) {
            copy = new DoublePointer(f.data());
        }
        return copy;
    }
}
