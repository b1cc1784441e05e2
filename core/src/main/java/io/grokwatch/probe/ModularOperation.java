package io.grokwatch.probe;

import java.util.SplittableRandom;

/**
 * Binary operations mod p on the pairs of the modular-addition grid (row {@code a*p + b}): the tasks of the general
 * detector evaluation. The inputs stay those of {@link ModularAddition#inputs(int)}; only the labels change.
 */
public enum ModularOperation {
    ADD("a+b"),
    SUBTRACT("a-b"),
    MULTIPLY("a*b"),
    /** {@code a^2 + ab + b^2 (mod p)}. */
    QUADRATIC("a^2+ab+b^2");

    private final String label;

    ModularOperation(String label) {
        this.label = label;
    }

    /** The formula, e.g. {@code a-b}. */
    public String label() {
        return label;
    }

    public int apply(int a, int b, int p) {
        long x = switch (this) {
            case ADD -> (long) a + b;
            case SUBTRACT -> (long) a - b;
            case MULTIPLY -> (long) a * b;
            case QUADRATIC -> (long) a * a + (long) a * b + (long) b * b;
        };
        return (int) Math.floorMod(x, (long) p);
    }

    /** Labels of all p^2 pairs in row order {@code a*p + b}. */
    public int[] labels(int p) {
        if (p < 2) {
            throw new IllegalArgumentException("modulus p must be >= 2, got " + p);
        }
        int[] y = new int[p * p];
        for (int a = 0; a < p; a++) {
            for (int b = 0; b < p; b++) {
                y[a * p + b] = apply(a, b, p);
            }
        }
        return y;
    }

    /**
     * Uniformly random labels in {@code 0..p-1}, one per pair, from a seeded stream: the control that memorises and
     * can never generalise (no rule relates a pair to its label).
     */
    public static int[] randomLabels(int p, long seed) {
        if (p < 2) {
            throw new IllegalArgumentException("modulus p must be >= 2, got " + p);
        }
        SplittableRandom rng = new SplittableRandom(seed ^ 0x5DEECE66DL);
        int[] y = new int[p * p];
        for (int i = 0; i < y.length; i++) {
            y[i] = rng.nextInt(p);
        }
        return y;
    }
}
