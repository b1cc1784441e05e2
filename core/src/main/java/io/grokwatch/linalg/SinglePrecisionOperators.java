package io.grokwatch.linalg;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas;

/**
 * Single-precision forms of the structured operators ({@link SymmetricOperator#inFloat32()}): the operator's data
 * is rounded to float32 once, each block of vectors on the way in, and the GEMMs run in float32 (twice the
 * arithmetic rate and half the memory traffic of float64). The result is widened back to float64 so the solver's
 * basis and its orthogonalisation stay in double precision.
 */
final class SinglePrecisionOperators {
    private SinglePrecisionOperators() {
    }

    /** A formed symmetric matrix. */
    static SymmetricOperator formed(Matrix a) {
        int n = a.rows();
        FloatPointer m = rounded(a.data());
        return new Single(n) {
            @Override
            void product(FloatPointer x, int b, FloatPointer y) {
                byRows(n, (long) n * n * b, (from, to) -> openblas.cblas_sgemm(openblas.CblasRowMajor,
                        openblas.CblasNoTrans, openblas.CblasNoTrans, to - from, b, n, 1f, view(m, (long) from * n), n,
                        x, b, 0f, view(y, (long) from * b), b));
            }
        };
    }

    /** {@code F F^T} from its n x r factor. */
    static SymmetricOperator lowRank(Matrix f) {
        int n = f.rows();
        int r = f.cols();
        FloatPointer pf = rounded(f.data());
        return new Single(n) {
            @Override
            void product(FloatPointer x, int b, FloatPointer y) {
                if (r == 0) {
                    return;
                }
                try (FloatPointer inner = new FloatPointer((long) r * b)) {
                    openblas.cblas_sgemm(openblas.CblasRowMajor, openblas.CblasTrans, openblas.CblasNoTrans, r, b, n,
                            1f, pf, r, x, b, 0f, inner, b);
                    byRows(n, (long) n * r * b, (from, to) -> openblas.cblas_sgemm(openblas.CblasRowMajor,
                            openblas.CblasNoTrans, openblas.CblasNoTrans, to - from, b, r, 1f,
                            view(pf, (long) from * r), r, inner, b, 0f, view(y, (long) from * b), b));
                }
            }
        };
    }

    /** Rounds each block on its way in and widens the product on its way out. */
    private abstract static class Single implements SymmetricOperator {
        private final int n;

        Single(int n) {
            this.n = n;
        }

        @Override
        public int size() {
            return n;
        }

        @Override
        public Matrix apply(Matrix x) {
            if (x.rows() != n) {
                throw new IllegalArgumentException("operator of side " + n + " applied to " + x.shape());
            }
            int b = x.cols();
            Matrix out = new Matrix(n, b);
            if (b == 0) {
                return out;
            }
            try (FloatPointer px = rounded(x.data()); FloatPointer py = new FloatPointer((long) n * b)) {
                py.fill(0);
                product(px, b, py);
                widenInto(py, out.data());
            }
            return out;
        }

        /** {@code Y = A X} for the n x b row-major block X (Y starts zeroed). */
        abstract void product(FloatPointer x, int b, FloatPointer y);
    }

    /** Runs {@code rows(from, to)} over [0, n), in two halves on two threads when the work is worth it. */
    private static void byRows(int n, long work, RowRange rows) {
        int mid = TwoWay.worthSplitting(work) ? TwoWay.middle(n) : n;
        if (mid < n) {
            TwoWay.run(() -> rows.run(0, mid), () -> rows.run(mid, n));
        } else {
            rows.run(0, n);
        }
    }

    private interface RowRange {
        void run(int from, int to);
    }

    /** {@code A X} for a square float32 matrix {@code a} (side = rows of x), widened to float64 row-major. */
    static double[] times(FloatPointer a, Matrix x) {
        int s = x.rows();
        int c = x.cols();
        double[] out = new double[s * c];
        try (FloatPointer px = rounded(x.data()); FloatPointer py = new FloatPointer((long) s * c)) {
            openblas.cblas_sgemm(openblas.CblasRowMajor, openblas.CblasNoTrans, openblas.CblasNoTrans, s, c, s, 1f, a,
                    s, px, c, 0f, py, c);
            widenInto(py, out);
        }
        return out;
    }

    static FloatPointer rounded(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return new FloatPointer(f);
    }

    static void widenInto(FloatPointer p, double[] out) {
        float[] f = new float[out.length];
        p.get(f);
        for (int i = 0; i < out.length; i++) {
            out[i] = f[i];
        }
    }

    private static FloatPointer view(FloatPointer p, long offset) {
        return new FloatPointer(p).position(p.position() + offset);
    }
}
