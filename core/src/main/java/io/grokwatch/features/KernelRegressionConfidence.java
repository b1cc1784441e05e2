package io.grokwatch.features;

import io.grokwatch.linalg.Eigenpairs;
import io.grokwatch.linalg.Matrix;
import io.grokwatch.linalg.SymmetricEigen;

/**
 * The eNTK's own guess at the held-out probes: kernel ridge regression of the one-hot training labels,
 * {@code F = K[:, T] (K[T, T] + lambda I)^{-1} Y}, with {@code lambda = ridge * trace(K[T, T]) / |T|}, and the
 * {@link HeldOutConfidence} of {@code F}. No held-out label is read. A kernel whose leading features carry the rule
 * predicts unseen inputs as confidently as seen ones; a kernel that only separates the memorised samples spreads its
 * held-out predictions over the classes. The kernel changes before the network's outputs do, so this moves before
 * {@link HeldOutConfidence} of the outputs (docs/science.md).
 */
public final class KernelRegressionConfidence {
    private KernelRegressionConfidence() {
    }

    /**
     * @param kernel  n x n symmetric positive semi-definite kernel on training and held-out probes
     * @param train   n flags, true on training rows; both sets non-empty
     * @param labels  one class per training row, in row order
     * @param classes number of classes, {@code >= 2}
     * @param ridge   relative ridge, {@code > 0}
     * @return held-out over training mean margin of the regression's predictions, NaN when undefined
     */
    public static double of(Matrix kernel, boolean[] train, int[] labels, int classes, double ridge) {
        int n = kernel.rows();
        if (kernel.cols() != n || train.length != n) {
            throw new IllegalArgumentException("need a square kernel with one train flag per row, got "
                    + kernel.shape() + " and " + train.length + " flags");
        }
        if (classes < 2) {
            throw new IllegalArgumentException("need at least 2 classes, got " + classes);
        }
        if (!(ridge > 0) || !Double.isFinite(ridge)) {
            throw new IllegalArgumentException("ridge must be a finite number > 0, got " + ridge);
        }
        int[] rows = new int[n];
        int t = 0;
        for (int i = 0; i < n; i++) {
            if (train[i]) {
                rows[t++] = i;
            }
        }
        if (labels.length != t) {
            throw new IllegalArgumentException("need one label per training row: " + t + " rows, " + labels.length
                    + " labels");
        }
        if (t == 0 || t == n) {
            throw new IllegalArgumentException("need both training and held-out rows, got " + t + " training of " + n);
        }
        Matrix ktt = new Matrix(t, t);
        Matrix kxt = new Matrix(n, t);
        double trace = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < t; j++) {
                kxt.set(i, j, kernel.get(i, rows[j]));
            }
        }
        for (int i = 0; i < t; i++) {
            System.arraycopy(kxt.data(), rows[i] * t, ktt.data(), i * t, t);
            trace += ktt.get(i, i);
        }
        double lambda = ridge * trace / t;
        if (!(lambda > 0) || !Double.isFinite(lambda)) {
            return Double.NaN;
        }
        Matrix y = new Matrix(t, classes);
        for (int i = 0; i < t; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException("label " + labels[i] + " outside 0.." + (classes - 1));
            }
            y.set(i, labels[i], 1.0);
        }
        Eigenpairs e = SymmetricEigen.full(ktt);
        Matrix coefficients = e.vectors().transposeTimes(y);
        for (int j = 0; j < t; j++) {
            double scale = 1.0 / (Math.max(e.values()[j], 0) + lambda);
            for (int c = 0; c < classes; c++) {
                coefficients.set(j, c, coefficients.get(j, c) * scale);
            }
        }
        Matrix predictions = kxt.times(e.vectors().times(coefficients));
        return HeldOutConfidence.ratio(predictions, train);
    }
}
