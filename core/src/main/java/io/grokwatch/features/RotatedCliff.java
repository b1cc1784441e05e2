package io.grokwatch.features;

import io.grokwatch.linalg.Matrix;

import java.util.List;

/**
 * A cliff basis rotated into single Fourier modes.
 *
 * @param vectors   {@code N x d} orthonormal; the first {@code d/2} columns are the lower (smoother under
 *                  {@code L_1}) half ordered by ascending {@code L_2} energy, the rest ascending in {@code L_1}
 * @param perVector what each column aligns with
 * @param summary   how cleanly the rotation worked
 */
public record RotatedCliff(Matrix vectors, List<RotatedVector> perVector, RotationSummary summary) {
    public RotatedCliff {
        if (vectors.cols() != perVector.size()) {
            throw new IllegalArgumentException("rotated vectors " + vectors.shape() + " but " + perVector.size()
                    + " alignment reports");
        }
        perVector = List.copyOf(perVector);
    }
}
