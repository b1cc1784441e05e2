package io.grokwatch.features;

import io.grokwatch.linalg.Matrix;
import io.grokwatch.linalg.Orthonormal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Shared test inputs: seeded random matrices and the CSV files written by {@code features/make_expected.py}. */
final class Fixtures {
    private Fixtures() {
    }

    static Matrix gaussian(int rows, int cols, long seed) {
        Random random = new Random(seed);
        Matrix m = new Matrix(rows, cols);
        double[] d = m.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = random.nextGaussian();
        }
        return m;
    }

    /** A random orthogonal {@code n x n} matrix (Gram-Schmidt of a Gaussian one). */
    static Matrix orthogonal(int n, long seed) {
        Matrix q = Orthonormal.columns(gaussian(n, n, seed));
        if (q.cols() != n) {
            throw new IllegalStateException("Gaussian matrix was singular");
        }
        return q;
    }

    static Matrix concat(Matrix left, Matrix right) {
        Matrix m = new Matrix(left.rows(), left.cols() + right.cols());
        for (int i = 0; i < left.rows(); i++) {
            for (int j = 0; j < left.cols(); j++) {
                m.set(i, j, left.get(i, j));
            }
            for (int j = 0; j < right.cols(); j++) {
                m.set(i, left.cols() + j, right.get(i, j));
            }
        }
        return m;
    }

    /** Rows of comma-separated text from a classpath resource under {@code /features/}. */
    static List<String[]> csv(String name) {
        String path = "/features/" + name;
        try (InputStream in = Fixtures.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + path);
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            List<String[]> rows = new ArrayList<>();
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                if (!line.isBlank()) {
                    rows.add(line.trim().split(","));
                }
            }
            return rows;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Matrix csvMatrix(String name) {
        List<String[]> rows = csv(name);
        double[][] values = new double[rows.size()][];
        for (int i = 0; i < values.length; i++) {
            String[] cells = rows.get(i);
            values[i] = new double[cells.length];
            for (int j = 0; j < cells.length; j++) {
                values[i][j] = Double.parseDouble(cells[j]);
            }
        }
        return Matrix.of(values);
    }
}
