package io.grokwatch.linalg;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The eigensolver checked against the math itself: A V = V diag(lambda) (exact residual <= 1e-12),
 * V^T V = I (1e-12), eigenvalues equal to those a matrix was built from (1e-12 relative), including exactly
 * repeated eigenvalues (the cos/sin pairs of the eNTK are such clusters).
 */
class SymmetricEigenTest {

    /** Q diag(values) Q^T for a random orthogonal Q. */
    static Matrix withSpectrum(double[] values, long seed) {
        int n = values.length;
        Random r = new Random(seed);
        Matrix g = new Matrix(n, n);
        for (int i = 0; i < n * n; i++) {
            g.data()[i] = r.nextGaussian();
        }
        Matrix q = Orthonormal.columns(g);
        Matrix qd = q.copy();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                qd.set(i, j, q.get(i, j) * values[j]);
            }
        }
        Matrix a = qd.timesTranspose(q);
        // Exact symmetry, as kernels have.
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < i; j++) {
                double m = 0.5 * (a.get(i, j) + a.get(j, i));
                a.set(i, j, m);
                a.set(j, i, m);
            }
        }
        return a;
    }

    static void assertDecomposition(Matrix a, Eigenpairs e, double[] expectedDescending) {
        for (int i = 0; i < e.count(); i++) {
            assertEquals(expectedDescending[i], e.values()[i], 1e-12 * Math.abs(expectedDescending[0]), "value " + i);
        }
        assertTrue(SymmetricEigen.residual(a, e.values(), e.vectors()) < 1e-12, "residual");
        Matrix vtv = e.vectors().transposeTimes(e.vectors());
        assertTrue(vtv.maxAbsDifference(Matrix.identity(vtv.rows())) < 1e-12, "orthonormal vectors");
        assertTrue(e.residual() < 1e-12, "reported residual " + e.residual());
    }

    @Test
    void robustTopHandlesExactMultiplicities() {
        // Like a read-out's dual Gram: one 6 x 6 block repeated once per class (29 times), so every eigenvalue
        // has multiplicity 29 (where dsyevr's MRRR may give up; divide and conquer then takes over).
        Random r = new Random(12);
        Matrix block = new Matrix(6, 6);
        for (int i = 0; i < 6; i++) {
            for (int j = 0; j <= i; j++) {
                double v = r.nextGaussian();
                block.set(i, j, v);
                block.set(j, i, v);
            }
        }
        int copies = 29;
        int n = 6 * copies;
        Matrix a = new Matrix(n, n);
        for (int c = 0; c < copies; c++) {
            for (int i = 0; i < 6; i++) {
                for (int j = 0; j < 6; j++) {
                    a.set(c * 6 + i, c * 6 + j, block.get(i, j));
                }
            }
        }
        double[] blockValues = SymmetricEigen.full(block).values();
        Eigenpairs top = SymmetricEigen.topRobust(a, 40);
        for (int i = 0; i < 40; i++) {
            assertEquals(blockValues[i / copies], top.values()[i], 1e-12 * Math.abs(blockValues[0]), "value " + i);
        }
        Matrix av = Blas.multiply(a, false, top.vectors(), false);
        for (int j = 0; j < 40; j++) {
            for (int i = 0; i < n; i++) {
                assertEquals(top.values()[j] * top.vectors().get(i, j), av.get(i, j), 1e-10, "A v = lambda v");
            }
        }
        assertTrue(Orthonormal.orthonormalityError(top.vectors()) < 1e-10);
    }

    @Test
    void leadingPairsOfARandomSpectrum() {
        Random r = new Random(1);
        double[] values = new double[150];
        for (int i = 0; i < values.length; i++) {
            values[i] = Math.exp(-0.05 * i) + 0.01 * r.nextDouble();
        }
        Matrix a = withSpectrum(values, 2);
        double[] desc = values.clone();
        Arrays.sort(desc);
        reverse(desc);
        Eigenpairs e = SymmetricEigen.top(a, 60, 25);
        assertEquals(60, e.count());
        assertEquals(25, e.vectorCount());
        assertDecomposition(a, e, desc);
    }

    @Test
    void repeatedEigenvaluesStillGiveAnOrthonormalBasis() {
        // Pairs and a block of four equal values, like the Fourier modes of a cliff.
        double[] values = new double[80];
        for (int i = 0; i < values.length; i++) {
            values[i] = 0.01 * (1 + (i % 7));
        }
        values[0] = 5;
        values[1] = values[2] = 2;
        values[3] = values[4] = values[5] = values[6] = 1;
        Matrix a = withSpectrum(values, 3);
        double[] desc = values.clone();
        Arrays.sort(desc);
        reverse(desc);
        assertDecomposition(a, SymmetricEigen.top(a, 40, 40), desc);
    }

    @Test
    void fullDecompositionReconstructsTheMatrix() {
        Random r = new Random(4);
        double[] values = new double[50];
        for (int i = 0; i < values.length; i++) {
            values[i] = r.nextGaussian();
        }
        Matrix a = withSpectrum(values, 5);
        Eigenpairs e = SymmetricEigen.full(a);
        Matrix vl = e.vectors().copy();
        for (int i = 0; i < 50; i++) {
            for (int j = 0; j < 50; j++) {
                vl.set(i, j, vl.get(i, j) * e.values()[j]);
            }
        }
        assertTrue(vl.timesTranspose(e.vectors()).maxAbsDifference(a) < 1e-12, "V diag V^T = A");
    }

    @Test
    void float32ReductionKeepsItsStatedAccuracy() {
        // A decaying spectrum with a four-fold cluster, 300 x 300; float32 reduction and back-transformation.
        double[] values = new double[300];
        for (int i = 0; i < values.length; i++) {
            values[i] = Math.exp(-i / 40.0);
        }
        values[10] = values[11] = values[12] = values[13];
        Matrix a = withSpectrum(values, 8);
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        Eigenpairs e = SymmetricEigen.top(a, 120, 60, Precision.FLOAT32);
        for (int i = 0; i < 120; i++) {
            // Stated: absolute error of order 1e-7 * lambda_max (single precision's backward error).
            assertEquals(sorted[299 - i], e.values()[i], 2e-6 * sorted[299], "eigenvalue " + i);
        }
        double exact = SymmetricEigen.residual(a, e.values(), e.vectors());
        assertTrue(exact < 1e-5 && exact > 1e-10, "float32 residual " + exact);
        // The cheap estimate reports the same order as the exact residual.
        assertTrue(e.residual() > exact / 10 && e.residual() < exact * 10, e.residual() + " vs " + exact);
    }

    @Test
    void blockDiagonalMatricesTakeTheSplitPath() {
        Matrix a = new Matrix(6, 6);
        double[] diag = {3, 1, 4, 1.5, 9, 2.6};
        for (int i = 0; i < 6; i++) {
            a.set(i, i, diag[i]);
        }
        Eigenpairs e = SymmetricEigen.top(a, 6, 3);
        assertDecomposition(a, e, new double[] {9, 4, 3, 2.6, 1.5, 1});
    }

    @Test
    void signConventionIsDeterministic() {
        Matrix a = withSpectrum(new double[] {3, 2, 1, 0.5}, 6);
        Eigenpairs e = SymmetricEigen.top(a, 4, 4);
        for (int j = 0; j < 4; j++) {
            double best = 0;
            for (int i = 0; i < 4; i++) {
                if (Math.abs(e.vectors().get(i, j)) > Math.abs(best)) {
                    best = e.vectors().get(i, j);
                }
            }
            assertTrue(best > 0, "largest entry of vector " + j + " is positive");
        }
    }

    @Test
    void badInputIsRejectedWithTheShape() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SymmetricEigen.top(new Matrix(3, 4), 2, 1));
        assertTrue(e.getMessage().contains("3 x 4"));
        Matrix nan = new Matrix(2, 2);
        nan.set(0, 0, Double.NaN);
        assertThrows(ArithmeticException.class, () -> SymmetricEigen.top(nan, 2, 2));
    }

    private static void reverse(double[] a) {
        for (int i = 0, j = a.length - 1; i < j; i++, j--) {
            double t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}
