package io.grokwatch.graph;

import java.util.Arrays;

/**
 * A dense row-major tensor of doubles with its shape. Integer and boolean tensors (token ids, shapes, masks)
 * hold their values as doubles too, exact up to 2^53, and are marked {@link #integer()} so that arithmetic on
 * them stays integral (ONNX divides int64 shapes with truncation) and no derivative flows through them.
 */
public final class NdArray {
    private final int[] shape;
    private final double[] data;
    private final boolean integer;

    public NdArray(int[] shape, double[] data, boolean integer) {
        this.shape = shape.clone();
        long size = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            size *= d;
        }
        if (size != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " needs " + size + " values, got "
                    + data.length);
        }
        this.data = data;
        this.integer = integer;
    }

    public NdArray(int[] shape, double[] data) {
        this(shape, data, false);
    }

    public static NdArray zeros(int... shape) {
        return new NdArray(shape, new double[size(shape)]);
    }

    public static NdArray scalar(double v) {
        return new NdArray(new int[0], new double[] {v});
    }

    /** A 1-D integer tensor, as ONNX shape arithmetic produces. */
    public static NdArray ints(long... values) {
        double[] d = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            d[i] = values[i];
        }
        return new NdArray(new int[] {values.length}, d, true);
    }

    public static int size(int[] shape) {
        long s = 1;
        for (int d : shape) {
            s *= d;
        }
        if (s > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("tensor of shape " + Arrays.toString(shape) + " is too large");
        }
        return (int) s;
    }

    public int[] shape() {
        return shape.clone();
    }

    /** The shape array itself, for read-only use on hot paths. */
    int[] dims() {
        return shape;
    }

    public int rank() {
        return shape.length;
    }

    public int dim(int axis) {
        return shape[axis];
    }

    public int size() {
        return data.length;
    }

    /** The values, row-major (not copied). */
    public double[] data() {
        return data;
    }

    public boolean integer() {
        return integer;
    }

    public double item() {
        if (data.length != 1) {
            throw new IllegalArgumentException("expected a single value, got shape " + Arrays.toString(shape));
        }
        return data[0];
    }

    /** The values as longs (for shape, axis and index inputs). */
    public long[] longs() {
        long[] r = new long[data.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = (long) data[i];
        }
        return r;
    }

    /** The same values under another shape of equal size (shares the data). */
    public NdArray reshape(int... newShape) {
        return new NdArray(newShape, data, integer);
    }

    public NdArray asInteger(boolean isInteger) {
        return isInteger == integer ? this : new NdArray(shape, data, isInteger);
    }

    public NdArray copy() {
        return new NdArray(shape, data.clone(), integer);
    }

    /** This tensor with a leading axis of length k prepended, every slice a copy of this one. */
    public NdArray repeatLeading(int k) {
        double[] d = new double[k * data.length];
        for (int i = 0; i < k; i++) {
            System.arraycopy(data, 0, d, i * data.length, data.length);
        }
        return new NdArray(Shapes.prepend(k, shape), d, integer);
    }

    @Override
    public String toString() {
        return (integer ? "int" : "float") + Arrays.toString(shape);
    }
}
