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
        double[] norm = new double[cols];
        double[] best = largestEntries(m, norm);
        double[] f = new double[cols];
        for (int j = 0; j < cols; j++) {
            f[j] = norm[j] == 0 ? 1.0 : (best[j] < 0 ? -1.0 : 1.0) / Math.sqrt(norm[j]);
        }
        scaleColumns(d, rows, cols, f);
        return m;
    }

    /** Flips, in place, every column whose entry of largest magnitude is negative (no rescaling). */
    public static Matrix fixSigns(Matrix m) {
        int cols = m.cols();
        double[] best = largestEntries(m, null);
        double[] f = new double[cols];
        boolean any = false;
        for (int j = 0; j < cols; j++) {
            f[j] = best[j] < 0 ? -1.0 : 1.0;
            any |= best[j] < 0;
        }
        if (any) {
            scaleColumns(m.data(), m.rows(), cols, f);
        }
        return m;
    }

    /**
     * Each column's first entry of largest magnitude, and (when {@code squaredNorms} is given) its squared norm, in
     * one pass over the rows: the matrices are row-major, and a pass down each column of an n x 450 block of
     * eigenvectors would touch a new cache line per entry.
     */
    private static double[] largestEntries(Matrix m, double[] squaredNorms) {
        int rows = m.rows();
        int cols = m.cols();
        double[] d = m.data();
        double[] best = new double[cols];
        double[] bestAbs = new double[cols];
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            for (int j = 0; j < cols; j++) {
                double v = d[base + j];
                double a = Math.abs(v);
                if (a > bestAbs[j]) {
                    bestAbs[j] = a;
                    best[j] = v;
                }
                if (squaredNorms != null) {
                    squaredNorms[j] += v * v;
                }
            }
        }
        return best;
    }

    private static void scaleColumns(double[] d, int rows, int cols, double[] f) {
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            for (int j = 0; j < cols; j++) {
                d[base + j] *= f[j];
            }
        }
    }
}
