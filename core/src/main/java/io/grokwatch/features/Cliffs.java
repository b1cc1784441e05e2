package io.grokwatch.features;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Finds cliffs (sharp drops {@code lambda_i / lambda_(i+1)}) in a descending eigenvalue spectrum. A kernel
 * spectrum is positive semi-definite, so values at or below a noise floor ({@link #RELATIVE_NOISE_FLOOR} times
 * the largest eigenvalue; this includes rounding negatives) count as zero: the tail of the null space is flat
 * (ratio 1), not a series of spurious cliffs, and the step from signal into it is an infinite cliff.
 */
public final class Cliffs {
    /** Eigenvalues below this share of the top one are treated as zero. */
    public static final double RELATIVE_NOISE_FLOOR = 1e-12;

    private Cliffs() {
    }

    /** The fixed cliff ranges of modular addition mod {@code p}. */
    public static ModularAdditionCliffs modularAddition(int p) {
        return new ModularAdditionCliffs(p);
    }

    /**
     * The at most {@code maxCliffs} largest drops with ratio {@code >= minRatio}, sorted by position. A flat step
     * (ratio exactly 1) is never a cliff, whatever {@code minRatio}.
     *
     * @param eigenvaluesDescending the spectrum, largest first (not modified)
     * @param minRatio              smallest ratio that counts as a cliff, {@code >= 1}
     * @param maxCliffs             how many cliffs to keep at most, {@code >= 0}
     */
    public static List<Cliff> detect(double[] eigenvaluesDescending, double minRatio, int maxCliffs) {
        if (!(minRatio >= 1.0)) {
            throw new IllegalArgumentException("minRatio must be >= 1 (a descending spectrum has no ratio below 1), got "
                    + minRatio);
        }
        if (maxCliffs < 0) {
            throw new IllegalArgumentException("maxCliffs must be >= 0, got " + maxCliffs);
        }
        requireDescending(eigenvaluesDescending);
        List<Cliff> candidates = new ArrayList<>();
        for (int i = 0; i + 1 < eigenvaluesDescending.length; i++) {
            double r = ratio(eigenvaluesDescending, i);
            if (r >= minRatio && r > 1.0) {
                candidates.add(new Cliff(i, r));
            }
        }
        candidates.sort(Comparator.comparingDouble(Cliff::ratio).reversed().thenComparingInt(Cliff::position));
        List<Cliff> kept = new ArrayList<>(candidates.subList(0, Math.min(maxCliffs, candidates.size())));
        kept.sort(Comparator.comparingInt(Cliff::position));
        return List.copyOf(kept);
    }

    /**
     * {@code lambda_i / lambda_(i+1)} with the noise floor applied: 1 when both are (numerically) zero,
     * {@code +Infinity} when only the second is.
     */
    public static double ratio(double[] eigenvaluesDescending, int i) {
        if (i < 0 || i + 1 >= eigenvaluesDescending.length) {
            throw new IllegalArgumentException("ratio after index " + i + " needs indices " + i + " and " + (i + 1)
                    + " of a spectrum with " + eigenvaluesDescending.length + " values");
        }
        double floor = RELATIVE_NOISE_FLOOR * Math.max(0.0, eigenvaluesDescending[0]);
        double upper = eigenvaluesDescending[i];
        double lower = eigenvaluesDescending[i + 1];
        boolean upperZero = !(upper > floor);
        boolean lowerZero = !(lower > floor);
        if (upperZero) {
            return 1.0;
        }
        if (lowerZero) {
            return Double.POSITIVE_INFINITY;
        }
        return upper / lower;
    }

    private static void requireDescending(double[] values) {
        for (int i = 0; i < values.length; i++) {
            if (Double.isNaN(values[i])) {
                throw new IllegalArgumentException("eigenvalue " + i + " is NaN");
            }
            if (i > 0 && values[i] > values[i - 1]) {
                throw new IllegalArgumentException("eigenvalues must be descending, but value " + i + " (" + values[i]
                        + ") exceeds value " + (i - 1) + " (" + values[i - 1] + ")");
            }
        }
    }
}
