package io.grokwatch.trainer;

import io.grokwatch.linalg.Matrix;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Reads the tensors written by {@code adam_reference.py}: one per line, {@code name rows cols values...}. */
final class Fixtures {
    private final Map<String, Matrix> tensors = new LinkedHashMap<>();

    private Fixtures() {
    }

    static Fixtures load(String resource) {
        Fixtures f = new Fixtures();
        try (InputStream in = Fixtures.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + resource);
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] parts = line.trim().split("\\s+");
                int rows = Integer.parseInt(parts[1]);
                int cols = Integer.parseInt(parts[2]);
                double[] data = new double[rows * cols];
                if (parts.length != 3 + data.length) {
                    throw new IllegalStateException(resource + ": tensor " + parts[0] + " has " + (parts.length - 3)
                            + " values, expected " + data.length);
                }
                for (int i = 0; i < data.length; i++) {
                    data[i] = Double.parseDouble(parts[3 + i]);
                }
                f.tensors.put(parts[0], new Matrix(rows, cols, data));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return f;
    }

    Matrix matrix(String name) {
        Matrix m = tensors.get(name);
        if (m == null) {
            throw new IllegalArgumentException("fixture has no tensor '" + name + "', has " + tensors.keySet());
        }
        return m.copy();
    }

    double[] vector(String name) {
        return matrix(name).data();
    }

    double scalar(String name) {
        return vector(name)[0];
    }

    int[] indices(String name) {
        double[] v = vector(name);
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (int) v[i];
        }
        return out;
    }
}
