package io.grokwatch.entk;

import java.util.ArrayList;
import java.util.List;

/**
 * Where the probes of a batch sit in one value of a graph evaluated on the batch. Exporters move the batch
 * axis around (nn.MultiheadAttention works sequence-first, and merges batch and heads into one axis), so a
 * probe's rows are not always a contiguous block: the batch lives on {@code axis}, which holds B times the
 * single-probe extent, with the probe index either outside it ({@code major}: probe b owns a block) or inside
 * it (interleaved). Rows are all axes but the last.
 */
record BatchAxis(int axis, boolean major) {
    BatchAxis {
        if (axis < 0) {
            throw new IllegalArgumentException("axis must be >= 0, got " + axis);
        }
    }

    /** The rows of a value with single-probe dimensions {@code single}: the product of all but the last. */
    static int rows(int[] single) {
        int r = 1;
        for (int i = 0; i < single.length - 1; i++) {
            r *= single[i];
        }
        return r;
    }

    /**
     * The layouts that the dimensions allow: {@code batched} equals {@code single} except on one axis other
     * than the last, which holds {@code batch} times as many entries.
     */
    static List<BatchAxis> candidates(int[] single, int[] batched, int batch) {
        List<BatchAxis> out = new ArrayList<>();
        if (single.length != batched.length || single.length < 2) {
            return out;
        }
        for (int j = 0; j < single.length - 1; j++) {
            boolean others = true;
            for (int i = 0; i < single.length; i++) {
                others &= i == j || single[i] == batched[i];
            }
            if (others && batched[j] == batch * single[j]) {
                out.add(new BatchAxis(j, true));
                if (single[j] > 1) {
                    out.add(new BatchAxis(j, false));
                }
            }
        }
        return out;
    }

    /**
     * For each probe b of the batch and each of its own rows t, the row of the batched value:
     * {@code [b * rows(single) + t]}.
     */
    int[] rowOf(int[] single, int batch) {
        int rank = single.length;
        if (axis >= rank - 1) {
            throw new IllegalArgumentException("batch axis " + axis + " of a rank-" + rank + " value is not a row axis");
        }
        int local = rows(single);
        int[] batched = single.clone();
        batched[axis] *= batch;
        int[] out = new int[batch * local];
        int[] index = new int[rank - 1];
        for (int t = 0; t < local; t++) {
            // The multi-index of row t over the single-probe row axes, last axis fastest.
            int rest = t;
            for (int i = rank - 2; i >= 0; i--) {
                index[i] = rest % single[i];
                rest /= single[i];
            }
            for (int b = 0; b < batch; b++) {
                int row = 0;
                for (int i = 0; i < rank - 1; i++) {
                    int v = index[i];
                    if (i == axis) {
                        v = major ? b * single[i] + v : v * batch + b;
                    }
                    row = row * batched[i] + v;
                }
                out[b * local + t] = row;
            }
        }
        return out;
    }
}
