package io.grokwatch.linalg;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.openblas.global.openblas;

/**
 * {@code F F^T} from its n x r factor: two thin GEMMs per block, never the n x n matrix. The factor is copied to
 * native memory once, on first use, rather than for every product: for a read-out factor of a p = 113 probe set
 * (12,769 x 512) the copy would cost about as much as the products themselves. The native copy is released with
 * the operator (JavaCPP frees it when the pointer is collected).
 */
final class LowRankOperator implements SymmetricOperator {
    private final Matrix f;
    private volatile DoublePointer nativeFactor;

    LowRankOperator(Matrix f) {
        this.f = java.util.Objects.requireNonNull(f, "factor");
    }

    @Override
    public int size() {
        return f.rows();
    }

    @Override
    public Matrix apply(Matrix x) {
        int n = f.rows();
        int r = f.cols();
        if (x.rows() != n) {
            throw new IllegalArgumentException("operator of side " + n + " applied to " + x.shape());
        }
        int b = x.cols();
        if ((long) n * r * b < 32L * 32 * 32 || b == 0 || r == 0) {
            return Blas.multiply(f, false, Blas.multiply(f, true, x, false), false);
        }
        DoublePointer pf = factor();
        NativeScratch scratch = NativeScratch.get();
        DoublePointer px = scratch.copyOf(1, x.data());
        DoublePointer py = scratch.buffer(2, (long) r * b);
        DoublePointer pz = scratch.buffer(3, (long) n * b);
        openblas.cblas_dgemm(openblas.CblasRowMajor, openblas.CblasTrans, openblas.CblasNoTrans,
                r, b, n, 1.0, pf, r, px, b, 0.0, py, b);
        openblas.cblas_dgemm(openblas.CblasRowMajor, openblas.CblasNoTrans, openblas.CblasNoTrans,
                n, b, r, 1.0, pf, r, py, b, 0.0, pz, b);
        Matrix out = new Matrix(n, b);
        pz.get(out.data());
        return out;
    }

    private DoublePointer factor() {
        DoublePointer p = nativeFactor;
        if (p == null) {
            synchronized (this) {
                p = nativeFactor;
                if (p == null) {
                    p = new DoublePointer(f.data());
                    nativeFactor = p;
                }
            }
        }
        return p;
    }
}
