package io.grokwatch.probe;

import io.grokwatch.linalg.Matrix;

/**
 * The modular-addition task's inputs and labels over all p^2 pairs, in the order row = a*p + b: input
 * concat(one_hot(a), one_hot(b)), label (a + b) mod p.
 */
public final class ModularAddition {
    private ModularAddition() {
    }

    public static Matrix inputs(int p) {
        requirePositive(p);
        Matrix x = new Matrix(p * p, 2 * p);
        for (int a = 0; a < p; a++) {
            for (int b = 0; b < p; b++) {
                int row = a * p + b;
                x.set(row, a, 1.0);
                x.set(row, p + b, 1.0);
            }
        }
        return x;
    }

    /** The same pairs as token ids: row a*p + b is (a, b, p), token p standing for "=". */
    public static Matrix tokens(int p) {
        requirePositive(p);
        Matrix x = new Matrix(p * p, 3);
        for (int a = 0; a < p; a++) {
            for (int b = 0; b < p; b++) {
                int row = a * p + b;
                x.set(row, 0, a);
                x.set(row, 1, b);
                x.set(row, 2, p);
            }
        }
        return x;
    }

    public static int[] labels(int p) {
        requirePositive(p);
        int[] y = new int[p * p];
        for (int a = 0; a < p; a++) {
            for (int b = 0; b < p; b++) {
                y[a * p + b] = (a + b) % p;
            }
        }
        return y;
    }

    private static void requirePositive(int p) {
        if (p < 2) {
            throw new IllegalArgumentException("modulus p must be >= 2, got " + p);
        }
    }
}
