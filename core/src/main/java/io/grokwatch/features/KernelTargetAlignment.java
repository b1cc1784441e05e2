package io.grokwatch.features;

import io.grokwatch.linalg.Matrix;

/**
 * Centred kernel-target alignment of a kernel on the training probes with the training labels:
 * {@code <Kc, Yc Yc^T>_F / (||Kc||_F ||Yc Yc^T||_F)}, {@code Kc = H K H} with the centring matrix
 * {@code H = I - 11^T/n}, {@code Yc} the one-hot labels with each column's mean removed. In [-1, 1]; 1 when the
 * kernel is the label kernel up to scale. Kumar et al. (2023) report it tracking grokking; on grokwatch's runs it
 * also rises when a model only memorises (docs/science.md), so detectors report it as context.
 */
public final class KernelTargetAlignment {
    private KernelTargetAlignment() {
    }

    /**
     * @param kernel  n x n symmetric kernel on the training probes, {@code n >= 2}
     * @param labels  n class indices in {@code 0..classes-1}
     * @param classes number of classes, {@code >= 2}
     * @return the alignment, NaN when the centred kernel or the centred labels vanish
     */
    public static double of(Matrix kernel, int[] labels, int classes) {
        int n = kernel.rows();
        if (kernel.cols() != n) {
            throw new IllegalArgumentException("the kernel must be square, got " + kernel.shape());
        }
        if (labels.length != n) {
            throw new IllegalArgumentException("need one label per kernel row: " + n + " rows, " + labels.length
                    + " labels");
        }
        if (n < 2) {
            throw new IllegalArgumentException("need at least 2 training probes, got " + n);
        }
        if (classes < 2) {
            throw new IllegalArgumentException("need at least 2 classes, got " + classes);
        }
        for (int y : labels) {
            if (y < 0 || y >= classes) {
                throw new IllegalArgumentException("label " + y + " outside 0.." + (classes - 1));
            }
        }
        Matrix yc = centredOneHot(labels, classes);
        double[] k = kernel.data();
        double[] rowMean = new double[n];
        double total = 0;
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < n; j++) {
                s += k[i * n + j];
            }
            rowMean[i] = s / n;
            total += s;
        }
        double grand = total / ((double) n * n);
        // ||H K H||_F^2 with (HKH)_ij = K_ij - m_i - m_j + g (K symmetric: column means are the row means).
        double kk = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double c = k[i * n + j] - rowMean[i] - rowMean[j] + grand;
                kk += c * c;
            }
        }
        // <HKH, Yc Yc^T> = trace(Yc^T K Yc), since H Yc = Yc.
        double[] ky = kernel.times(yc).data();
        double[] y = yc.data();
        double inner = 0;
        for (int i = 0; i < ky.length; i++) {
            inner += ky[i] * y[i];
        }
        double denominator = Math.sqrt(kk) * yc.transposeTimes(yc).frobeniusNorm();
        return denominator > 0 ? inner / denominator : Double.NaN;
    }

    static Matrix centredOneHot(int[] labels, int classes) {
        int n = labels.length;
        double[] mean = new double[classes];
        for (int y : labels) {
            mean[y] += 1.0 / n;
        }
        Matrix yc = new Matrix(n, classes);
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < classes; c++) {
                yc.set(i, c, (labels[i] == c ? 1.0 : 0.0) - mean[c]);
            }
        }
        return yc;
    }
}
