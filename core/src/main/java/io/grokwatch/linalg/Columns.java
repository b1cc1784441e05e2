package io.grokwatch.linalg;

/** Column operations shared by the eigensolvers. */
public final class Columns {
    private Columns() {
    }

    /**
     * Scales every column of {@code m} to unit length, in place, with the sign that makes its entry of largest
     * magnitude positive: the convention all of grokwatch's eigenvectors follow, so results are reproducible.
     * A zero column stays zero.
     */
    public static Matrix normaliseWithSign(Matrix m) {
        int rows = m.rows();
        int cols = m.cols();
        double[] d = m.data();
        for (int j = 0; j < cols; j++) {
            double norm = 0;
            double best = 0;
            for (int r = 0; r < rows; r++) {
                double v = d[r * cols + j];
                norm += v * v;
                if (Math.abs(v) > Math.abs(best)) {
                    best = v;
                }
            }
            if (norm == 0) {
                continue;
            }
            double f = (best < 0 ? -1.0 : 1.0) / Math.sqrt(norm);
            for (int r = 0; r < rows; r++) {
                d[r * cols + j] *= f;
            }
        }
        return m;
    }

    /** Flips, in place, every column whose entry of largest magnitude is negative (no rescaling). */
    public static Matrix fixSigns(Matrix m) {
        int rows = m.rows();
        int cols = m.cols();
        double[] d = m.data();
        for (int j = 0; j < cols; j++) {
            double best = 0;
            for (int r = 0; r < rows; r++) {
                double v = d[r * cols + j];
                if (Math.abs(v) > Math.abs(best)) {
                    best = v;
                }
            }
            if (best < 0) {
                for (int r = 0; r < rows; r++) {
                    d[r * cols + j] = -d[r * cols + j];
                }
            }
        }
        return m;
    }
}
