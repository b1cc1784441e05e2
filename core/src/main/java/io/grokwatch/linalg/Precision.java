package io.grokwatch.linalg;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Arithmetic of the O(n^3) steps of a dense eigendecomposition (the Householder reduction and the
 * back-transformation of the eigenvectors) and of an iterative solve's kernel products
 * ({@link SymmetricOperator#inFloat32()}). Kernels, the tridiagonal eigenproblem, the Krylov basis and every reported
 * residual stay in double precision, so a {@link #FLOAT32} result is measured against the float64 kernel.
 */
public enum Precision {
    /** Double precision throughout (the default). */
    FLOAT64("float64"),
    /**
     * Single-precision reduction and back-transformation: faster on the dense solves (docs/benchmarks.md); eigenvalues
     * carry an absolute error of order {@code 1e-7 * lambda_max} (so small eigenvalues lose relative accuracy).
     */
    FLOAT32("float32");

    private final String id;

    Precision(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    public static Precision parse(String s) {
        for (Precision p : values()) {
            if (p.id.equals(s)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown precision '" + s + "'; allowed: "
                + Arrays.stream(values()).map(Precision::id).collect(Collectors.joining(", ")));
    }
}
