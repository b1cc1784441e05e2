package io.grokwatch.linalg;

import java.util.Arrays;

/**
 * A dense row-major matrix of doubles. Small and mutable on purpose: the hot paths of the eNTK engine
 * fill these in place and hand them to {@link Blas}.
 */
public final class Matrix {
    private final int rows;
    private final int cols;
    private final double[] data;

    public Matrix(int rows, int cols) {
        this(rows, cols, new double[checkedSize(rows, cols)]);
    }

    /** Wraps {@code data} (row-major, not copied). */
    public Matrix(int rows, int cols, double[] data) {
        int size = checkedSize(rows, cols);
        if (data.length != size) {
            throw new IllegalArgumentException("data has " + data.length + " values, a " + rows + " x " + cols
                    + " matrix needs " + size);
        }
        this.rows = rows;
        this.cols = cols;
        this.data = data;
    }

    private static int checkedSize(int rows, int cols) {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("negative shape " + rows + " x " + cols);
        }
        long size = (long) rows * cols;
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("matrix " + rows + " x " + cols + " is too large for one array");
        }
        return (int) size;
    }

    public static Matrix identity(int n) {
        Matrix m = new Matrix(n, n);
        for (int i = 0; i < n; i++) {
            m.data[i * n + i] = 1.0;
        }
        return m;
    }

    /** Copies a jagged array of rows. */
    public static Matrix of(double[][] values) {
        int r = values.length;
        int c = r == 0 ? 0 : values[0].length;
        Matrix m = new Matrix(r, c);
        for (int i = 0; i < r; i++) {
            if (values[i].length != c) {
                throw new IllegalArgumentException("row " + i + " has " + values[i].length + " values, expected " + c);
            }
            System.arraycopy(values[i], 0, m.data, i * c, c);
        }
        return m;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** The backing row-major array (live, not a copy). */
    public double[] data() {
        return data;
    }

    public double get(int r, int c) {
        return data[r * cols + c];
    }

    public void set(int r, int c, double v) {
        data[r * cols + c] = v;
    }

    public void add(int r, int c, double v) {
        data[r * cols + c] += v;
    }

    public Matrix copy() {
        return new Matrix(rows, cols, data.clone());
    }

    public Matrix transpose() {
        Matrix t = new Matrix(cols, rows);
        for (int i = 0; i < rows; i++) {
            int base = i * cols;
            for (int j = 0; j < cols; j++) {
                t.data[j * rows + i] = data[base + j];
            }
        }
        return t;
    }

    /** {@code this * other}. */
    public Matrix times(Matrix other) {
        return Blas.multiply(this, false, other, false);
    }

    /** {@code this^T * other}. */
    public Matrix transposeTimes(Matrix other) {
        return Blas.multiply(this, true, other, false);
    }

    /** {@code this * other^T}. */
    public Matrix timesTranspose(Matrix other) {
        return Blas.multiply(this, false, other, true);
    }

    /** Columns {@code [from, to)} as a new matrix. */
    public Matrix columns(int from, int to) {
        if (from < 0 || to > cols || from > to) {
            throw new IllegalArgumentException("column range [" + from + ", " + to + ") outside 0.." + cols);
        }
        int w = to - from;
        Matrix m = new Matrix(rows, w);
        for (int i = 0; i < rows; i++) {
            System.arraycopy(data, i * cols + from, m.data, i * w, w);
        }
        return m;
    }

    /** Rows {@code [from, to)} as a new matrix. */
    public Matrix rowRange(int from, int to) {
        if (from < 0 || to > rows || from > to) {
            throw new IllegalArgumentException("row range [" + from + ", " + to + ") outside 0.." + rows);
        }
        return new Matrix(to - from, cols, Arrays.copyOfRange(data, from * cols, to * cols));
    }

    public double[] column(int c) {
        double[] v = new double[rows];
        for (int i = 0; i < rows; i++) {
            v[i] = data[i * cols + c];
        }
        return v;
    }

    public double[] row(int r) {
        return Arrays.copyOfRange(data, r * cols, (r + 1) * cols);
    }

    /** {@code this += alpha * other}, shapes must match. */
    public Matrix addInPlace(double alpha, Matrix other) {
        requireSameShape(other);
        for (int i = 0; i < data.length; i++) {
            data[i] += alpha * other.data[i];
        }
        return this;
    }

    public Matrix scaleInPlace(double alpha) {
        for (int i = 0; i < data.length; i++) {
            data[i] *= alpha;
        }
        return this;
    }

    /** Element-wise product, in place. */
    public Matrix hadamardInPlace(Matrix other) {
        requireSameShape(other);
        for (int i = 0; i < data.length; i++) {
            data[i] *= other.data[i];
        }
        return this;
    }

    public double frobeniusNorm() {
        double s = 0;
        for (double v : data) {
            s += v * v;
        }
        return Math.sqrt(s);
    }

    public double maxAbsDifference(Matrix other) {
        requireSameShape(other);
        double m = 0;
        for (int i = 0; i < data.length; i++) {
            m = Math.max(m, Math.abs(data[i] - other.data[i]));
        }
        return m;
    }

    public String shape() {
        return rows + " x " + cols;
    }

    void requireSameShape(Matrix other) {
        if (rows != other.rows || cols != other.cols) {
            throw new IllegalArgumentException("shape mismatch: " + shape() + " vs " + other.shape());
        }
    }

    @Override
    public String toString() {
        return "Matrix[" + shape() + "]";
    }
}
