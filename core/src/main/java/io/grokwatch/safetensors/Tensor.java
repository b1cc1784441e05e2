package io.grokwatch.safetensors;

import java.util.Arrays;
import java.util.Objects;

/**
 * One named tensor: row-major values held as doubles whatever the stored {@code dtype}, which records the
 * precision the values came from and the one {@link Safetensors#write} will use.
 *
 * <p>{@code shape} is copied on the way in and out, so the shape/size invariant cannot be broken from
 * outside. {@code values} is <em>not</em> copied (checkpoints are large): the accessor returns the live
 * array.
 *
 * @param name   the tensor's key in the file, e.g. {@code "net.0.weight"}
 * @param dtype  stored element type
 * @param shape  dimensions, outermost first; {@code []} is a scalar
 * @param values row-major values, exactly {@code product(shape)} of them
 */
public record Tensor(String name, DType dtype, long[] shape, double[] values) {
    /** Largest array the JVM reliably allocates. */
    static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    public Tensor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(values, "values");
        shape = shape.clone();
        long size = 1;
        for (long dim : shape) {
            if (dim < 0) {
                throw new IllegalArgumentException("tensor '" + name + "': negative dimension in shape "
                        + Arrays.toString(shape));
            }
            size = size == 0 ? 0 : multiplyCapped(size, dim);
        }
        if (size != values.length) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " needs "
                    + (size > MAX_ELEMENTS ? "more than " + MAX_ELEMENTS : String.valueOf(size)) + " values, got "
                    + values.length);
        }
    }

    /** {@code a * b}, or {@code MAX_ELEMENTS + 1} when that is exceeded (no overflow). */
    private static long multiplyCapped(long a, long b) {
        if (b != 0 && a > (MAX_ELEMENTS + 1L) / b) {
            return MAX_ELEMENTS + 1L;
        }
        return Math.min(a * b, MAX_ELEMENTS + 1L);
    }

    /** A float64 tensor; {@code values} is not copied. */
    public static Tensor f64(String name, long[] shape, double[] values) {
        return new Tensor(name, DType.F64, shape, values);
    }

    /** A tensor that will be written as float32 (values are rounded to float on write); not copied. */
    public static Tensor f32(String name, long[] shape, double[] values) {
        return new Tensor(name, DType.F32, shape, values);
    }

    /** The same values, to be stored as {@code dtype} (e.g. {@code withDType(F32)} to write an F16 tensor). */
    public Tensor withDType(DType dtype) {
        return new Tensor(name, dtype, shape, values);
    }

    /** A copy of the dimensions. */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Number of elements. */
    public int size() {
        return values.length;
    }

    /** Bytes this tensor occupies in a file, at its dtype. */
    public long byteSize() {
        return (long) values.length * dtype.byteSize();
    }

    /** First dimension of a matrix (rank-2 tensor). */
    public int rows() {
        return matrixDim(0);
    }

    /** Second dimension of a matrix (rank-2 tensor). */
    public int cols() {
        return matrixDim(1);
    }

    private int matrixDim(int i) {
        if (shape.length != 2) {
            throw new IllegalStateException("tensor '" + name + "' has shape " + Arrays.toString(shape)
                    + ", not a matrix");
        }
        if (shape[i] > Integer.MAX_VALUE) {
            throw new IllegalStateException("tensor '" + name + "': dimension " + shape[i] + " exceeds int range");
        }
        return (int) shape[i];
    }

    /** Element {@code (row, col)} of a matrix. */
    public double get(int row, int col) {
        int c = cols();
        int r = rows();
        if (row < 0 || row >= r || col < 0 || col >= c) {
            throw new IndexOutOfBoundsException("(" + row + ", " + col + ") outside " + r + " x " + c
                    + " tensor '" + name + "'");
        }
        return values[row * c + col];
    }

    /** Equal names, dtypes, shapes and values (compared bit-wise as {@link Arrays#equals(double[], double[])}). */
    @Override
    public boolean equals(Object o) {
        return o instanceof Tensor t
                && name.equals(t.name)
                && dtype == t.dtype
                && Arrays.equals(shape, t.shape)
                && Arrays.equals(values, t.values);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), Arrays.hashCode(values));
    }

    /** Name, dtype and shape; values are left out on purpose. */
    @Override
    public String toString() {
        return "Tensor[name=" + name + ", dtype=" + dtype + ", shape=" + Arrays.toString(shape) + "]";
    }
}
