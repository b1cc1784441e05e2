package io.grokwatch.features;

/**
 * A sharp drop in a descending spectrum: {@code ratio = lambda_position / lambda_(position+1)}, so the plateau
 * above the cliff is eigenvector indices {@code 0 .. position}. The ratio is {@code +Infinity} when the spectrum
 * falls from a positive value to (numerical) zero.
 */
public record Cliff(int position, double ratio) {
    public Cliff {
        if (position < 0) {
            throw new IllegalArgumentException("cliff position must be >= 0, got " + position);
        }
        if (!(ratio >= 1.0)) {
            throw new IllegalArgumentException("cliff ratio must be >= 1, got " + ratio);
        }
    }
}
