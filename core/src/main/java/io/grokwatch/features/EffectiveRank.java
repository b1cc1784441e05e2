package io.grokwatch.features;

/**
 * Effective rank {@code exp(-sum p_i log p_i)} with {@code p_i = lambda_i / sum lambda}: how many directions
 * carry the spectrum's weight (Roy and Vetterli). It is {@code r} for {@code r} equal eigenvalues and 1 for a single
 * one. Negative eigenvalues are rounding in a kernel spectrum and are treated as zero.
 */
public final class EffectiveRank {
    private EffectiveRank() {
    }

    /** The effective rank, 0 when no eigenvalue is positive. */
    public static double of(double[] eigenvalues) {
        double total = 0;
        for (int i = 0; i < eigenvalues.length; i++) {
            double v = eigenvalues[i];
            if (Double.isNaN(v) || Double.isInfinite(v)) {
                throw new IllegalArgumentException("eigenvalue " + i + " is " + v);
            }
            if (v > 0) {
                total += v;
            }
        }
        if (total == 0) {
            return 0.0;
        }
        double entropy = 0;
        for (double v : eigenvalues) {
            if (v > 0) {
                double p = v / total;
                entropy -= p * Math.log(p);
            }
        }
        return Math.exp(entropy);
    }
}
