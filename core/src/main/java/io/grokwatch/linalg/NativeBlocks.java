package io.grokwatch.linalg;

import org.bytedeco.javacpp.DoublePointer;

/** Blocks of vectors in native memory, where block Lanczos keeps its basis and the operators multiply them. */
final class NativeBlocks {
    private NativeBlocks() {
    }

    /** A pointer to the same memory offset by {@code offset} elements (safe to use from another thread). */
    static DoublePointer view(DoublePointer p, long offset) {
        return new DoublePointer(p).position(p.position() + offset);
    }

    /** {@code op}'s product with a heap block, through its native {@link SymmetricOperator#applyTo}. */
    static Matrix apply(SymmetricOperator op, Matrix x) {
        int n = op.size();
        if (x.rows() != n) {
            throw new IllegalArgumentException("operator of side " + n + " applied to " + x.shape());
        }
        int b = x.cols();
        Matrix out = new Matrix(n, b);
        if (b == 0) {
            return out;
        }
        try (DoublePointer px = new DoublePointer(x.data()); DoublePointer py = new DoublePointer((long) n * b)) {
            op.applyTo(px, b, py);
            py.get(out.data(), 0, n * b);
        }
        return out;
    }
}
