package io.grokwatch.features;

import io.grokwatch.linalg.Matrix;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SplitFeaturesTest {
    /** Alignment against the definition, with H, Kc and Yc Yc^T formed as dense matrices; tolerance 1e-12. */
    @Test
    void alignmentMatchesTheDenseDefinition() {
        SplittableRandom rng = new SplittableRandom(7);
        int n = 30;
        int classes = 4;
        Matrix a = new Matrix(n, 12);
        for (int i = 0; i < a.data().length; i++) {
            a.data()[i] = rng.nextGaussian();
        }
        Matrix k = a.timesTranspose(a);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = rng.nextInt(classes);
        }
        Matrix h = Matrix.identity(n);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                h.add(i, j, -1.0 / n);
            }
        }
        Matrix kc = h.times(k).times(h);
        Matrix y = new Matrix(n, classes);
        for (int i = 0; i < n; i++) {
            y.set(i, labels[i], 1.0);
        }
        Matrix yc = h.times(y);
        Matrix target = yc.timesTranspose(yc);
        double inner = 0;
        for (int i = 0; i < n * n; i++) {
            inner += kc.data()[i] * target.data()[i];
        }
        double expected = inner / (kc.frobeniusNorm() * target.frobeniusNorm());
        assertEquals(expected, KernelTargetAlignment.of(k, labels, classes), 1e-12);
    }

    @Test
    void theLabelKernelItselfIsPerfectlyAligned() {
        int[] labels = {0, 1, 2, 0, 1, 2, 2};
        Matrix k = new Matrix(labels.length, labels.length);
        for (int i = 0; i < labels.length; i++) {
            for (int j = 0; j < labels.length; j++) {
                k.set(i, j, labels[i] == labels[j] ? 3.0 : 0.0);
            }
        }
        assertEquals(1.0, KernelTargetAlignment.of(k, labels, 3), 1e-12);
    }

    @Test
    void alignmentRejectsMismatchedInputs() {
        Matrix k = Matrix.identity(3);
        assertThrows(IllegalArgumentException.class, () -> KernelTargetAlignment.of(k, new int[] {0, 1}, 2));
        assertThrows(IllegalArgumentException.class, () -> KernelTargetAlignment.of(k, new int[] {0, 1, 2}, 2));
    }

    /** Margins by hand: training rows 2 and 4, held-out rows 1 and 3; exact to 1e-15. */
    @Test
    void confidenceIsTheHeldOutOverTrainingMeanMargin() {
        Matrix out = Matrix.of(new double[][] {{3, 1, 0}, {0, 0.5, 0.25}, {1, 1, -2}, {-1, 2, 0}});
        boolean[] train = {true, false, true, false};
        double trainMean = (2.0 + 0.0) / 2;
        double heldMean = (0.25 + 2.0) / 2;
        assertEquals(heldMean / trainMean, HeldOutConfidence.ratio(out, train), 1e-15);
    }

    @Test
    void confidenceNeedsBothSetsAndTwoOutputs() {
        Matrix out = Matrix.of(new double[][] {{1, 0}, {0, 1}});
        assertThrows(IllegalArgumentException.class, () -> HeldOutConfidence.ratio(out, new boolean[] {true, true}));
        assertThrows(IllegalArgumentException.class, () -> HeldOutConfidence.ratio(out, new boolean[] {true}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HeldOutConfidence.ratio(Matrix.of(new double[][] {{1}, {2}}), new boolean[] {true, false}));
        assertTrue(e.getMessage().contains("at least 2 outputs"), e.getMessage());
    }

    /**
     * Kernel regression against an independent dense solve: predictions {@code K[:,T] (K[T,T] + lambda I)^{-1} Y}
     * by Gaussian elimination, then the margin ratio; tolerance 1e-9.
     */
    @Test
    void kernelConfidenceMatchesADenseSolve() {
        SplittableRandom rng = new SplittableRandom(3);
        int n = 20;
        int classes = 3;
        Matrix a = new Matrix(n, 6);
        for (int i = 0; i < a.data().length; i++) {
            a.data()[i] = rng.nextGaussian();
        }
        Matrix k = a.timesTranspose(a);
        boolean[] train = new boolean[n];
        int t = 0;
        for (int i = 0; i < n; i++) {
            train[i] = i % 3 != 0;
            t += train[i] ? 1 : 0;
        }
        int[] rows = new int[t];
        int[] labels = new int[t];
        for (int i = 0, j = 0; i < n; i++) {
            if (train[i]) {
                rows[j] = i;
                labels[j++] = rng.nextInt(classes);
            }
        }
        double trace = 0;
        for (int r : rows) {
            trace += k.get(r, r);
        }
        double ridge = 1e-2;
        double lambda = ridge * trace / t;
        // Augmented system [K_TT + lambda I | Y], solved with partial pivoting.
        double[][] m = new double[t][t + classes];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < t; j++) {
                m[i][j] = k.get(rows[i], rows[j]) + (i == j ? lambda : 0);
            }
            m[i][t + labels[i]] = 1;
        }
        for (int c = 0; c < t; c++) {
            int p = c;
            for (int r = c + 1; r < t; r++) {
                if (Math.abs(m[r][c]) > Math.abs(m[p][c])) {
                    p = r;
                }
            }
            double[] tmp = m[c];
            m[c] = m[p];
            m[p] = tmp;
            for (int r = 0; r < t; r++) {
                if (r != c) {
                    double f = m[r][c] / m[c][c];
                    for (int j = c; j < t + classes; j++) {
                        m[r][j] -= f * m[c][j];
                    }
                }
            }
        }
        Matrix pred = new Matrix(n, classes);
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < classes; c++) {
                double s = 0;
                for (int j = 0; j < t; j++) {
                    s += k.get(i, rows[j]) * m[j][t + c] / m[j][j];
                }
                pred.set(i, c, s);
            }
        }
        assertEquals(HeldOutConfidence.ratio(pred, train),
                KernelRegressionConfidence.of(k, train, labels, classes, ridge), 1e-9);
    }
}
