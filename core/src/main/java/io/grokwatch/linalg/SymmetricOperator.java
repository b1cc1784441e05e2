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

    /**
     * {@code A X} for an n x b block in native memory (row-major, as {@link #apply}), written to {@code out}
     * (n x b, overwritten). Block Lanczos keeps its basis in native memory: operators that work there avoid two
     * copies of every block through the heap. The default goes through {@link #apply}.
     */
    default void applyTo(org.bytedeco.javacpp.DoublePointer x, int b, org.bytedeco.javacpp.DoublePointer out) {
        int n = size();
        double[] xs = new double[n * b];
        new org.bytedeco.javacpp.DoublePointer(x).get(xs, 0, xs.length);
        Matrix y = apply(new Matrix(n, b, xs));
        if (y.rows() != n || y.cols() != b) {
            throw new IllegalArgumentException("operator returned " + y.shape() + " for an " + n + " x " + b
                    + " block");
        }
        new org.bytedeco.javacpp.DoublePointer(out).put(y.data(), 0, n * b);
    }

    /**
     * Adds {@code scale} times this map's matrix to the n x n matrix at {@code k} (row-major), writing the upper
     * triangle and the diagonal only ({@code k[i * n + j]} for {@code i <= j}; the rest is left as it was): how a kernel
     * known by its terms is formed once, in native memory, for a dense solve ({@link SymmetricEigen#topFormed}) without
     * an n x n heap matrix per term. The default multiplies blocks of the identity.
     */
    default void addUpperTo(org.bytedeco.javacpp.DoublePointer k, double scale) {
        int n = size();
        java.nio.DoubleBuffer out = FormedUpper.buffer(k, n);
        int width = 64;
        for (int from = 0; from < n; from += width) {
            int b = Math.min(width, n - from);
            Matrix e = new Matrix(n, b);
            for (int j = 0; j < b; j++) {
                e.set(from + j, j, 1.0);
            }
            double[] y = apply(e).data();
            // Column from + j of the matrix is column j of y; its upper part is rows 0 .. from + j.
            for (int j = 0; j < b; j++) {
                int col = from + j;
                for (int i = 0; i <= col; i++) {
                    int at = i * n + col;
                    out.put(at, out.get(at) + scale * y[i * b + j]);
                }
            }
        }
    }

    /**
     * The same map with its products computed in single precision (its data and each block rounded to float32,
     * float32 GEMMs, the result widened back), for the {@code float32} analysis option; empty when the operator has
     * no such form. Its products carry relative errors of about 1e-7 of the operator's norm, so a solve on it can
     * only reach residuals of that order relative to the top eigenvalue (see {@code SpectrumSolver}).
     */
    default java.util.Optional<SymmetricOperator> inFloat32() {
        return java.util.Optional.empty();
    }

    /** {@code F F^T} from its n x r factor: two thin GEMMs per block, never the n x n matrix ({@link LowRankOperator}). */
    static SymmetricOperator lowRank(Matrix f) {
        return new LowRankOperator(f);
    }

    /** {@code s A}. */
    static SymmetricOperator scaled(SymmetricOperator a, double s) {
        return new SymmetricOperator() {
            @Override
            public int size() {
                return a.size();
            }

            @Override
            public Matrix apply(Matrix x) {
                return a.apply(x).scaleInPlace(s);
            }

            @Override
            public void applyTo(org.bytedeco.javacpp.DoublePointer x, int b, org.bytedeco.javacpp.DoublePointer out) {
                a.applyTo(x, b, out);
                org.bytedeco.openblas.global.openblas.cblas_dscal(a.size() * b, s, out, 1);
            }

            @Override
            public void addUpperTo(org.bytedeco.javacpp.DoublePointer k, double scale) {
                a.addUpperTo(k, s * scale);
            }

            @Override
            public java.util.Optional<SymmetricOperator> inFloat32() {
                return a.inFloat32().map(f -> scaled(f, s));
            }
        };
    }

    /** The sum of operators of the same side. */
    static SymmetricOperator sum(java.util.List<SymmetricOperator> terms) {
        if (terms.isEmpty()) {
            throw new IllegalArgumentException("a sum needs at least one operator");
        }
        int n = terms.get(0).size();
        for (SymmetricOperator t : terms) {
            if (t.size() != n) {
                throw new IllegalArgumentException("operators of sides " + n + " and " + t.size() + " cannot be summed");
            }
        }
        if (terms.size() == 1) {
            return terms.get(0);
        }
        java.util.List<SymmetricOperator> copy = java.util.List.copyOf(terms);
        return new SymmetricOperator() {
            @Override
            public int size() {
                return n;
            }

            @Override
            public Matrix apply(Matrix x) {
                Matrix out = copy.get(0).apply(x);
                for (int i = 1; i < copy.size(); i++) {
                    out.addInPlace(1.0, copy.get(i).apply(x));
                }
                return out;
            }

            @Override
            public void applyTo(org.bytedeco.javacpp.DoublePointer x, int b, org.bytedeco.javacpp.DoublePointer out) {
                copy.get(0).applyTo(x, b, out);
                try (org.bytedeco.javacpp.DoublePointer term = new org.bytedeco.javacpp.DoublePointer((long) n * b)) {
                    for (int i = 1; i < copy.size(); i++) {
                        copy.get(i).applyTo(x, b, term);
                        org.bytedeco.openblas.global.openblas.cblas_daxpy(n * b, 1.0, term, 1, out, 1);
                    }
                }
            }

            @Override
            public void addUpperTo(org.bytedeco.javacpp.DoublePointer k, double scale) {
                for (SymmetricOperator t : copy) {
                    t.addUpperTo(k, scale);
                }
            }

            @Override
            public java.util.Optional<SymmetricOperator> inFloat32() {
                java.util.List<SymmetricOperator> singles = new java.util.ArrayList<>();
                for (SymmetricOperator t : copy) {
                    java.util.Optional<SymmetricOperator> f = t.inFloat32();
                    if (f.isEmpty()) {
                        return java.util.Optional.empty();
                    }
                    singles.add(f.get());
                }
                return java.util.Optional.of(sum(singles));
            }
        };
    }

    /** A formed symmetric matrix as an operator (one GEMM per block, see {@link FormedOperator}). */
    static SymmetricOperator of(Matrix a) {
        return new FormedOperator(a);
    }
}
