package io.grokwatch.linalg;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.openblas.global.openblas;

/**
 * {@code F F^T} from its n x r factor as an operator: two thin GEMMs per block over a native copy of F made once
 * (a p = 113 read-out factor is 12,769 x 512, 52 MB; copying it into native memory for each of the two GEMMs of
 * every block cost a quarter of the product's time once the GEMMs ran on AVX-512 kernels).
 */
final class LowRankOperator implements SymmetricOperator {
    private final Matrix f;
    private DoublePointer copy;

    LowRankOperator(Matrix f) {
        this.f = f;
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
        Matrix out = new Matrix(n, b);
        if (b == 0 || r == 0) {
            return out;
        }
        DoublePointer pf = factor();
        try (DoublePointer px = new DoublePointer(x.data()); DoublePointer py = new DoublePointer((long) r * b);
             DoublePointer pz = new DoublePointer((long) n * b)) {
            // Y = F^T X (r x b), then F Y (n x b).
            openblas.cblas_dgemm(openblas.CblasRowMajor, openblas.CblasTrans, openblas.CblasNoTrans, r, b, n, 1.0, pf,
                    r, px, b, 0.0, py, b);
            openblas.cblas_dgemm(openblas.CblasRowMajor, openblas.CblasNoTrans, openblas.CblasNoTrans, n, b, r, 1.0, pf,
                    r, py, b, 0.0, pz, b);
            pz.get(out.data());
        }
        return out;
    }

    private synchronized DoublePointer factor() {
        if (copy == null) {
            copy = new DoublePointer(f.data());
        }
        return copy;
    }
}
