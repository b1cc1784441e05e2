package io.grokwatch.linalg;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Ritz decomposition against the spectrum a matrix was built from and against its own definition: eigenvalues
 * within 1e-12 relative, exact residual {@code ||A V - V diag(lambda)|| <= 1e-12 ||A||}, orthonormal vectors (1e-12),
 * and the cheap last rows equal to the last rows of the full vectors (1e-12), on a distinct spectrum and on one with
 * exact multiplicities (cos/sin pairs), where the tridiagonal MRRR may give up and divide and conquer takes over.
 */
class RitzDecompositionTest {

    @Test
    void leadingPairsOfADistinctSpectrum() {
        int n = 120;
        double[] values = new double[n];
        for (int i = 0; i < n; i++) {
            values[i] = Math.pow(0.93, i) + 1e-3 * new Random(i).nextDouble();
        }
        java.util.Arrays.sort(values);
        double[] descending = reverse(values);
        check(SymmetricEigenTest.withSpectrum(values, 3), descending, 40, 7);
    }

    @Test
    void leadingPairsWithExactMultiplicities() {
        int n = 90;
        double[] values = new double[n];
        for (int i = 0; i < n; i++) {
            values[i] = 1.0 / (1 + i / 2);
        }
        java.util.Arrays.sort(values);
        check(SymmetricEigenTest.withSpectrum(values, 5), reverse(values), 30, 4);
    }

    @Test
    void rejectsImpossibleCounts() {
        Matrix a = SymmetricEigenTest.withSpectrum(new double[] {1, 2, 3}, 1);
        assertThrows(IllegalArgumentException.class, () -> RitzDecomposition.of(a, 0));
        assertThrows(IllegalArgumentException.class, () -> RitzDecomposition.of(a, 4));
        assertThrows(IllegalArgumentException.class, () -> RitzDecomposition.of(a, 2).lastRows(4));
    }

    private static void check(Matrix a, double[] descending, int count, int rows) {
        RitzDecomposition d = RitzDecomposition.of(a, count);
        double scale = Math.abs(descending[0]);
        for (int j = 0; j < count; j++) {
            assertEquals(descending[j], d.values()[j], 1e-12 * scale, "value " + j);
        }
        Matrix v = d.vectors();
        assertEquals(count, v.cols());
        assertTrue(SymmetricEigen.residual(a, d.values(), v) <= 1e-12 * scale, "residual");
        Matrix gram = Blas.multiply(v, true, v, false);
        for (int i = 0; i < count; i++) {
            for (int j = 0; j < count; j++) {
                assertEquals(i == j ? 1.0 : 0.0, gram.get(i, j), 1e-12, "V^T V at " + i + "," + j);
            }
        }
        Matrix last = d.lastRows(rows);
        int n = a.rows();
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < count; j++) {
                assertEquals(v.get(n - rows + i, j), last.get(i, j), 1e-12, "last row " + i + " of vector " + j);
            }
        }
    }

    private static double[] reverse(double[] ascending) {
        double[] r = new double[ascending.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = ascending[r.length - 1 - i];
        }
        return r;
    }
}
