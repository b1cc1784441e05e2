package io.grokwatch.features;

import java.util.Arrays;

/**
 * One vector of a rotated cliff and what it is.
 *
 * @param index        column of {@link RotatedCliff#vectors()}
 * @param firstEnergy  {@code u^T L_1 u}: smoothness under the first-stage Laplacian
 * @param secondEnergy {@code u^T L_2 u}: smoothness under the second-stage Laplacian
 * @param alignments   {@code alignments[family.ordinal()][k-1]} = {@code ||[cos_k, sin_k]^T u||}
 * @param best         the largest of {@code alignments}
 */
public record RotatedVector(int index, double firstEnergy, double secondEnergy, double[][] alignments,
                            ModeAlignment best) {
    public RotatedVector {
        if (alignments.length != Family.values().length) {
            throw new IllegalArgumentException("need alignments for " + Family.values().length + " families, got "
                    + alignments.length);
        }
        alignments = deepCopy(alignments);
    }

    /** {@code ||[cos_k, sin_k]^T u||} for one family and frequency {@code k >= 1}. */
    public double alignment(Family family, int k) {
        double[] row = alignments[family.ordinal()];
        if (k < 1 || k > row.length) {
            throw new IllegalArgumentException("frequency " + k + " outside 1.." + row.length);
        }
        return row[k - 1];
    }

    @Override
    public double[][] alignments() {
        return deepCopy(alignments);
    }

    private static double[][] deepCopy(double[][] a) {
        double[][] c = new double[a.length][];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i].clone();
        }
        return c;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RotatedVector r && index == r.index
                && Double.compare(firstEnergy, r.firstEnergy) == 0
                && Double.compare(secondEnergy, r.secondEnergy) == 0
                && Arrays.deepEquals(alignments, r.alignments) && best.equals(r.best);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Integer.hashCode(index) + Arrays.deepHashCode(alignments)) + best.hashCode();
    }

    @Override
    public String toString() {
        return "RotatedVector[" + index + ": " + best.mode() + " alignment " + best.alignment() + "]";
    }
}
