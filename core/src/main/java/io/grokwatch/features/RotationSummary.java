package io.grokwatch.features;

/**
 * How cleanly a cliff came apart into single Fourier modes.
 *
 * @param meanBestAlignment mean over vectors of the best alignment (1 = every vector is one mode)
 * @param minBestAlignment  the worst vector's best alignment
 * @param cleanThreshold    the alignment a vector needs to count as clean
 * @param cleanVectors      vectors whose best alignment is {@code >= cleanThreshold}
 * @param distinctModes     distinct (family, k) pairs that are the best mode of some clean vector; a perfectly
 *                          resolved cliff of {@code d} vectors covers {@code d/2} modes, two (cos and sin) each
 * @param vectorCount       vectors in the cliff
 */
public record RotationSummary(double meanBestAlignment, double minBestAlignment, double cleanThreshold,
                              int cleanVectors, int distinctModes, int vectorCount) {
}
