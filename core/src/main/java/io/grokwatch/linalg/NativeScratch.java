package io.grokwatch.linalg;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;

/**
 * Per-thread native buffers for BLAS/LAPACK operands, grown on demand and reused: allocating (and
 * page-faulting) megabytes of native memory for every product costs as much as a small GEMM.
 */
final class NativeScratch {
    private static final int SLOTS = 5;
    private static final ThreadLocal<NativeScratch> LOCAL = ThreadLocal.withInitial(NativeScratch::new);

    private final DoublePointer[] buffers = new DoublePointer[SLOTS];
    private final FloatPointer[] floatBuffers = new FloatPointer[SLOTS];

    static NativeScratch get() {
        return LOCAL.get();
    }

    /** Buffer {@code slot} with room for at least {@code size} doubles (contents undefined). */
    DoublePointer buffer(int slot, long size) {
        DoublePointer b = buffers[slot];
        if (b == null || b.capacity() < size) {
            if (b != null) {
                b.close();
            }
            b = new DoublePointer(Math.max(size, 1));
            buffers[slot] = b;
        }
        b.position(0).limit(size);
        return b;
    }

    /** Buffer {@code slot} holding a copy of {@code values}. */
    DoublePointer copyOf(int slot, double[] values) {
        DoublePointer b = buffer(slot, values.length);
        b.put(values, 0, values.length);
        return b;
    }

    /** Single-precision buffer {@code slot} with room for at least {@code size} floats (contents undefined). */
    FloatPointer floatBuffer(int slot, long size) {
        FloatPointer b = floatBuffers[slot];
        if (b == null || b.capacity() < size) {
            if (b != null) {
                b.close();
            }
            b = new FloatPointer(Math.max(size, 1));
            floatBuffers[slot] = b;
        }
        b.position(0).limit(size);
        return b;
    }
}
