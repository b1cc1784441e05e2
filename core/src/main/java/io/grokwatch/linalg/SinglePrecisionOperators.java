package io.grokwatch.linalg;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas;

import java.util.List;

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
        return new SymmetricOperator() {
            @Override
            public int size() {
                return n;
            }

            @Override
            public Matrix apply(Matrix x) {
                requireRows(x, n);
                int b = x.cols();
                Matrix out = new Matrix(n, b);
                if (b == 0) {
                    return out;
                }
                try (FloatPointer px = rounded(x.data()); FloatPointer py = new FloatPointer((long) n * b)) {
                    int mid = TwoWay.worthSplitting((long) n * n * b) ? TwoWay.middle(n) : n;
                    Runnable top = () -> openblas.cblas_sgemm(openblas.CblasRowMajor, openblas.CblasNoTrans,
                            openblas.CblasNoTrans, mid, b, n, 1f, m, n, px, b, 0f, py, b);
                    if (mid < n) {
                        TwoWay.run(top, () -> openblas.cblas_sgemm(openblas.CblasRowMajor, openblas.CblasNoTrans,
                                openblas.CblasNoTrans, n - mid, b, n, 1f, view(m, (long) mid * n), n, px, b, 0f,
                                view(py, (long) mid * b), b));
                    } else {
                        top.run();
                    }
                    widenInto(py, out.data());
                }
                return out;
            }
        };
    }

    /** {@code F F^T} from its n x r factor. */
    static SymmetricOperator lowRank(Matrix f) {
        int n = f.rows();
        int r = f.cols();
        FloatPointer pf = rounded(f.data());
        return new SymmetricOperator() {
            @Override
            public int size() {
                return n;
            }

            @Override
            public Matrix apply(Matrix x) {
                requireRows(x, n);
                int b = x.cols();
                Matrix out = new Matrix(n, b);
                if (b == 0 || r == 0) {
                    return out;
                }
                try (FloatPointer px = rounded(x.data()); FloatPointer py = new FloatPointer((long) r * b);
                     FloatPointer pz = new FloatPointer((long) n * b)) {
                    openblas.cblas_sgemm(openblas.CblasRowMajor, openblas.CblasTrans, openblas.CblasNoTrans, r, b, n,
                            1f, pf, r, px, b, 0f, py, b);
                    int mid = TwoWay.worthSplitting((long) n * r * b) ? TwoWay.middle(n) : n;
                    Runnable top = () -> openblas.cblas_sgemm(openblas.CblasRowMajor, openblas.CblasNoTrans,
                            openblas.CblasNoTrans, mid, b, r, 1f, pf, r, py, b, 0f, pz, b);
                    if (mid < n) {
                        TwoWay.run(top, () -> openblas.cblas_sgemm(openblas.CblasRowMajor, openblas.CblasNoTrans,
                                openblas.CblasNoTrans, n - mid, b, r, 1f, view(pf, (long) mid * r), r, py, b, 0f,
                                view(pz, (long) mid * b), b));
                    } else {
                        top.run();
                    }
                    widenInto(pz, out.data());
                }
                return out;
            }
        };
    }

    /** {@link SparseHadamardGram}'s blocks: block {@code i} couples the probes {@code rows.get(i)}. */
    static SymmetricOperator sparseBlocks(int n, List<int[]> rows, List<Matrix> blocks) {
        List<FloatPointer> single = blocks.stream().map(b -> rounded(b.data())).toList();
        return new SymmetricOperator() {
            @Override
            public int size() {
                return n;
            }

            @Override
            public Matrix apply(Matrix x) {
                requireRows(x, n);
                int c = x.cols();
                Matrix out = new Matrix(n, c);
                double[] od = out.data();
                double[] xd = x.data();
                for (int b = 0; b < single.size(); b++) {
                    int[] idx = rows.get(b);
                    int s = idx.length;
                    float[] xs = new float[s * c];
                    for (int t = 0; t < s; t++) {
                        int src = idx[t] * c;
                        for (int q = 0; q < c; q++) {
                            xs[t * c + q] = (float) xd[src + q];
                        }
                    }
                    float[] ys = new float[s * c];
                    try (FloatPointer px = new FloatPointer(xs); FloatPointer py = new FloatPointer((long) s * c)) {
                        openblas.cblas_sgemm(openblas.CblasRowMajor, openblas.CblasNoTrans, openblas.CblasNoTrans, s,
                                c, s, 1f, single.get(b), s, px, c, 0f, py, c);
                        py.get(ys);
                    }
                    for (int t = 0; t < s; t++) {
                        int dst = idx[t] * c;
                        for (int q = 0; q < c; q++) {
                            od[dst + q] += ys[t * c + q];
                        }
                    }
                }
                return out;
            }
        };
    }

    private static FloatPointer rounded(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return new FloatPointer(f);
    }

    private static void widenInto(FloatPointer p, double[] out) {
        float[] f = new float[out.length];
        p.get(f);
        for (int i = 0; i < out.length; i++) {
            out[i] = f[i];
        }
    }

    private static FloatPointer view(FloatPointer p, long offset) {
        return new FloatPointer(p).position(p.position() + offset);
    }

    private static void requireRows(Matrix x, int n) {
        if (x.rows() != n) {
            throw new IllegalArgumentException("operator of side " + n + " applied to " + x.shape());
        }
    }
}
