package io.grokwatch.probe;

import io.grokwatch.linalg.Matrix;

import java.util.Arrays;
import java.util.Random;

/**
 * A uniform sample of probes without replacement, in their original order, for models whose exact kernel
 * over every probe costs too much: the kernel on the sample is the exact kernel's principal submatrix, so its
 * spectrum estimates the full one's shape (scaled by the sampling fraction) at a fraction of the cost.
 *
 * @param rows the chosen rows of the full probe set, ascending
 */
public record ProbeSample(int[] rows, int of, long seed) {
    public ProbeSample {
        rows = rows.clone();
    }

    @Override
    public int[] rows() {
        return rows.clone();
    }

    public int size() {
        return rows.length;
    }

    /** {@code n} of {@code total} probes chosen with the given seed (all of them when n >= total). */
    public static ProbeSample of(int n, int total, long seed) {
        if (n < 1) {
            throw new IllegalArgumentException("a probe sample needs at least 1 probe, got " + n);
        }
        if (n >= total) {
            int[] all = new int[total];
            Arrays.setAll(all, i -> i);
            return new ProbeSample(all, total, seed);
        }
        // Partial Fisher-Yates: the first n of a seeded permutation.
        int[] perm = new int[total];
        Arrays.setAll(perm, i -> i);
        Random rnd = new Random(seed);
        for (int i = 0; i < n; i++) {
            int j = i + rnd.nextInt(total - i);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        int[] chosen = Arrays.copyOf(perm, n);
        Arrays.sort(chosen);
        return new ProbeSample(chosen, total, seed);
    }

    /** The chosen rows of {@code probes}. */
    public Matrix select(Matrix probes) {
        if (probes.rows() != of) {
            throw new IllegalArgumentException("sample of " + of + " probes applied to " + probes.rows());
        }
        Matrix m = new Matrix(rows.length, probes.cols());
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(probes.data(), rows[i] * probes.cols(), m.data(), i * probes.cols(), probes.cols());
        }
        return m;
    }

    public boolean isAll() {
        return rows.length == of;
    }
}
