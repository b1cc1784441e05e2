package io.grokwatch.features;

import io.grokwatch.linalg.Matrix;

import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Feature x eigenvector heatmap of the Toy Models of Superposition experiment (docs/science.md): which input
 * feature each eigenvector of the flattened eNTK (rows in channel-major order {@code c D + x}) is about.
 * {@code H[j, i] = |z_j . u_i|} with {@code z_j} (feature j's values over the dataset, placed in output block j)
 * and {@code u_i} normalised, then each column of {@code H} normalised. {@code z_j} is non-zero only in block
 * {@code j}, so the {@code nD x n} indicator matrix is never formed.
 */
public final class TmsHeatmap {
    /** A column counts as recovering its arg-max feature at this normalised weight (the paper's 0.9). */
    public static final double RECOVERY_THRESHOLD = 0.9;

    private final Matrix values;
    private final int[] argmax;
    private final double[] max;

    private TmsHeatmap(Matrix values, int[] argmax, double[] max) {
        this.values = values;
        this.argmax = argmax;
        this.max = max;
    }

    /**
     * @param dataset      {@code D x n}, row = one input, column = one feature
     * @param eigenvectors {@code nD x k}, row {@code c D + x} = output {@code c} on input {@code x}
     */
    public static TmsHeatmap compute(Matrix dataset, Matrix eigenvectors) {
        int d = dataset.rows();
        int n = dataset.cols();
        if ((long) n * d != eigenvectors.rows()) {
            throw new IllegalArgumentException("eigenvectors " + eigenvectors.shape() + " need n*D = " + n + "*" + d
                    + " rows for dataset " + dataset.shape());
        }
        int k = eigenvectors.cols();
        double[] x = dataset.data();
        double[] u = eigenvectors.data();

        double[] vectorNorms = new double[k];
        for (int r = 0; r < eigenvectors.rows(); r++) {
            for (int i = 0; i < k; i++) {
                double v = u[r * k + i];
                vectorNorms[i] += v * v;
            }
        }
        Matrix h = new Matrix(n, k);
        double[] hd = h.data();
        for (int j = 0; j < n; j++) {
            double featureNorm = 0;
            int hRow = j * k;
            for (int s = 0; s < d; s++) {
                double xv = x[s * n + j];
                if (xv == 0.0) {
                    continue;
                }
                featureNorm += xv * xv;
                int uRow = (j * d + s) * k;
                for (int i = 0; i < k; i++) {
                    hd[hRow + i] += xv * u[uRow + i];
                }
            }
            double inv = featureNorm == 0 ? 0.0 : 1.0 / Math.sqrt(featureNorm);
            for (int i = 0; i < k; i++) {
                hd[hRow + i] = Math.abs(hd[hRow + i]) * inv;
            }
        }
        int[] argmax = new int[k];
        double[] max = new double[k];
        for (int i = 0; i < k; i++) {
            double colNorm = 0;
            for (int j = 0; j < n; j++) {
                double v = hd[j * k + i] / (vectorNorms[i] == 0 ? 1.0 : Math.sqrt(vectorNorms[i]));
                hd[j * k + i] = v;
                colNorm += v * v;
            }
            double inv = colNorm == 0 ? 0.0 : 1.0 / Math.sqrt(colNorm);
            for (int j = 0; j < n; j++) {
                double v = hd[j * k + i] * inv;
                hd[j * k + i] = v;
                if (v > max[i]) {
                    max[i] = v;
                    argmax[i] = j;
                }
            }
        }
        return new TmsHeatmap(h, argmax, max);
    }

    /** {@code n x k}, feature x eigenvector, every column of unit norm (or zero). A copy. */
    public Matrix values() {
        return values.copy();
    }

    public int featureCount() {
        return values.rows();
    }

    public int eigenvectorCount() {
        return values.cols();
    }

    /** The feature each eigenvector is most about (0 for an all-zero column). */
    public int[] argmax() {
        return argmax.clone();
    }

    /** The weight of that feature in the normalised column. */
    public double[] max() {
        return max.clone();
    }

    /** Distinct features that are the arg-max of some column with weight {@code >= threshold}. */
    public SortedSet<Integer> recovered(double threshold) {
        SortedSet<Integer> out = new TreeSet<>();
        for (int i = 0; i < argmax.length; i++) {
            if (max[i] >= threshold) {
                out.add(argmax[i]);
            }
        }
        return out;
    }

    /** How many distinct features are recovered at {@code threshold}. */
    public int recoveredFeatures(double threshold) {
        return recovered(threshold).size();
    }

    /** How many distinct features are recovered at {@link #RECOVERY_THRESHOLD}. */
    public int recoveredFeatures() {
        return recoveredFeatures(RECOVERY_THRESHOLD);
    }
}
