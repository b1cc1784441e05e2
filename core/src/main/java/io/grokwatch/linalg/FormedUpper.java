package io.grokwatch.linalg;

import org.bytedeco.javacpp.DoublePointer;

/** Access to an n x n row-major matrix in native memory, as {@link SymmetricOperator#addUpperTo} writes it. */
final class FormedUpper {
    private FormedUpper() {
    }

    /**
     * The n x n doubles from {@code k}'s position as a buffer indexed {@code i * n + j}: element reads and writes that
     * the JIT compiles to plain loads and stores, where {@link DoublePointer#get(long)} is a native call each.
     */
    static java.nio.DoubleBuffer buffer(DoublePointer k, int n) {
        long size = (long) n * n;
        if (k.limit() > 0 && k.limit() - k.position() < size) {
            throw new IllegalArgumentException("native matrix holds " + (k.limit() - k.position()) + " values, an "
                    + n + " x " + n + " matrix needs " + size);
        }
        return new DoublePointer(k).limit(k.position() + size).asBuffer();
    }
}
