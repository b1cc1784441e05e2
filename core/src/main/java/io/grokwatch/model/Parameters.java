package io.grokwatch.model;

import io.grokwatch.linalg.Matrix;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Named parameter tensors in {@code state_dict} order. Weights are {@code [out, in]} matrices; 1-D tensors
 * (biases) are held as {@code 1 x d} matrices and remember that they were 1-D.
 */
public final class Parameters {
    private final Map<String, Matrix> values = new LinkedHashMap<>();
    private final Map<String, long[]> shapes = new LinkedHashMap<>();

    /** Adds a tensor of shape {@code [d]} or {@code [rows, cols]}; values row-major, not copied. */
    public Parameters put(String name, long[] shape, double[] data) {
        Matrix m;
        if (shape.length == 1) {
            m = new Matrix(1, Math.toIntExact(shape[0]), data);
        } else if (shape.length == 2) {
            m = new Matrix(Math.toIntExact(shape[0]), Math.toIntExact(shape[1]), data);
        } else {
            throw new ModelFormatException("tensor '" + name + "' has shape " + ModelDescription.shapeText(shape)
                    + "; only 1-D and 2-D tensors can be parameters");
        }
        values.put(name, m);
        shapes.put(name, shape.clone());
        return this;
    }

    public Parameters putMatrix(String name, Matrix m) {
        values.put(name, m);
        shapes.put(name, new long[] {m.rows(), m.cols()});
        return this;
    }

    public Parameters putVector(String name, double[] v) {
        return put(name, new long[] {v.length}, v);
    }

    public Matrix get(String name) {
        Matrix m = values.get(name);
        if (m == null) {
            throw new IllegalArgumentException("no parameter '" + name + "', have " + values.keySet());
        }
        return m;
    }

    public boolean contains(String name) {
        return values.containsKey(name);
    }

    public long[] shape(String name) {
        return shapes.get(name).clone();
    }

    public Map<String, long[]> shapes() {
        return Collections.unmodifiableMap(shapes);
    }

    public Set<String> names() {
        return Collections.unmodifiableSet(values.keySet());
    }

    /** Number of scalar parameters. */
    public long size() {
        long n = 0;
        for (Matrix m : values.values()) {
            n += (long) m.rows() * m.cols();
        }
        return n;
    }

    /** A deep copy. */
    public Parameters copy() {
        Parameters p = new Parameters();
        for (var e : values.entrySet()) {
            p.put(e.getKey(), shapes.get(e.getKey()), e.getValue().data().clone());
        }
        return p;
    }

    /** Same names and shapes, all zero. */
    public Parameters zerosLike() {
        Parameters p = new Parameters();
        for (var e : values.entrySet()) {
            p.put(e.getKey(), shapes.get(e.getKey()), new double[e.getValue().data().length]);
        }
        return p;
    }

    /** The first non-finite value, or null when all are finite (NaN/Inf weights are rejected upstream). */
    public String firstNonFinite() {
        for (var e : values.entrySet()) {
            double[] d = e.getValue().data();
            for (int i = 0; i < d.length; i++) {
                if (!Double.isFinite(d[i])) {
                    return "tensor '" + e.getKey() + "' has " + d[i] + " at flat index " + i;
                }
            }
        }
        return null;
    }
}
