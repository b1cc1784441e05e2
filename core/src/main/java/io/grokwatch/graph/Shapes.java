package io.grokwatch.graph;

import java.util.Arrays;

/** Shape arithmetic shared by the ops: strides, numpy-style broadcasting, axis normalisation. */
final class Shapes {
    private Shapes() {
    }

    static int[] strides(int[] shape) {
        int[] s = new int[shape.length];
        int acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    static int[] prepend(int k, int[] shape) {
        int[] r = new int[shape.length + 1];
        r[0] = k;
        System.arraycopy(shape, 0, r, 1, shape.length);
        return r;
    }

    static int[] dropFirst(int[] shape) {
        return Arrays.copyOfRange(shape, 1, shape.length);
    }

    /** The broadcast shape of two shapes (numpy rules), or an error naming both. */
    static int[] broadcast(int[] a, int[] b) {
        int r = Math.max(a.length, b.length);
        int[] out = new int[r];
        for (int i = 0; i < r; i++) {
            int da = i < r - a.length ? 1 : a[i - (r - a.length)];
            int db = i < r - b.length ? 1 : b[i - (r - b.length)];
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException("shapes " + Arrays.toString(a) + " and " + Arrays.toString(b)
                        + " do not broadcast");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /**
     * For every element of a tensor of shape {@code out}, the index of the element of a tensor of shape
     * {@code in} (right-aligned, broadcast) it reads.
     */
    static int[] broadcastIndex(int[] in, int[] out) {
        int n = NdArray.size(out);
        int[] idx = new int[n];
        if (Arrays.equals(in, out)) {
            for (int i = 0; i < n; i++) {
                idx[i] = i;
            }
            return idx;
        }
        int r = out.length;
        int[] inStrides = new int[r];
        int[] s = strides(in);
        for (int i = 0; i < r; i++) {
            int j = i - (r - in.length);
            inStrides[i] = j < 0 || in[j] == 1 ? 0 : s[j];
        }
        int[] counter = new int[r];
        int pos = 0;
        for (int i = 0; i < n; i++) {
            idx[i] = pos;
            for (int d = r - 1; d >= 0; d--) {
                counter[d]++;
                pos += inStrides[d];
                if (counter[d] < out[d]) {
                    break;
                }
                pos -= inStrides[d] * counter[d];
                counter[d] = 0;
            }
        }
        return idx;
    }

    /** Sums {@code x} over the axes along which a tensor of shape {@code target} was broadcast to x's shape. */
    static NdArray reduceTo(NdArray x, int[] target) {
        if (Arrays.equals(x.dims(), target)) {
            return x;
        }
        int[] map = broadcastIndex(target, x.dims());
        double[] out = new double[NdArray.size(target)];
        double[] xd = x.data();
        for (int i = 0; i < xd.length; i++) {
            out[map[i]] += xd[i];
        }
        return new NdArray(target, out);
    }

    static int axis(long axis, int rank, String op) {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) {
            throw new IllegalArgumentException(op + ": axis " + axis + " out of range for rank " + rank);
        }
        return (int) a;
    }

    static String text(int[] shape) {
        return Arrays.toString(shape);
    }
}
