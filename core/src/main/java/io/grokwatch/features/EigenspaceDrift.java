package io.grokwatch.features;

import io.grokwatch.linalg.Blas;
import io.grokwatch.linalg.Matrix;

/**
 * How far a kernel's leading eigenspace moved between two checkpoints: {@code 1 - ||U^T V||_F^2 / r} for the
 * top-r eigenvectors U (previous) and V (current), the mean squared sine of their principal angles. 0 when the
 * span is unchanged (whatever the basis or signs inside it), 1 when the new span is orthogonal to the old.
 */
public final class EigenspaceDrift {
    private EigenspaceDrift() {
    }

    /** Drift over the first {@code min(previous.cols, current.cols)} columns; both must be orthonormal. */
    public static double between(Matrix previous, Matrix current) {
        if (previous.rows() != current.rows()) {
            throw new IllegalArgumentException("eigenvectors on different probe sets: " + previous.shape() + " vs "
                    + current.shape());
        }
        int r = Math.min(previous.cols(), current.cols());
        if (r == 0) {
            return Double.NaN;
        }
        Matrix c = Blas.leadingCross(previous, current, r);
        double f = c.frobeniusNorm();
        return Math.min(1.0, Math.max(0.0, 1.0 - f * f / r));
    }
}
