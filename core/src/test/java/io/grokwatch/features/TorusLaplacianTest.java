package io.grokwatch.features;

import io.grokwatch.linalg.Matrix;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Stencil results are sums of three exact terms: compared to 1e-12. */
class TorusLaplacianTest {
    private static final double EXACT = 1e-12;

    @Test
    void axisLaplaciansAreKroneckerProductsOfThePathLaplacian() {
        int p = 5;
        Matrix l1 = new Matrix(p, p);
        for (int i = 0; i < p; i++) {
            l1.add(i, i, 2);
            l1.add(i, (i + 1) % p, -1);
            l1.add(i, (i + p - 1) % p, -1);
        }
        Matrix u = Fixtures.gaussian(p * p, 3, 1);
        assertEquals(0.0, TorusLaplacian.alongN(p).apply(u).maxAbsDifference(kron(l1, Matrix.identity(p)).times(u)), EXACT);
        assertEquals(0.0, TorusLaplacian.alongM(p).apply(u).maxAbsDifference(kron(Matrix.identity(p), l1).times(u)), EXACT);
    }

    @Test
    void sumAndDiffLaplaciansFollowTheirStencil() {
        int p = 7;
        Matrix u = Fixtures.gaussian(p * p, 1, 2);
        Matrix sum = TorusLaplacian.alongSum(p).apply(u);
        Matrix diff = TorusLaplacian.alongDiff(p).apply(u);
        for (int a = 0; a < p; a++) {
            for (int b = 0; b < p; b++) {
                double centre = 2 * u.get(a * p + b, 0);
                double s = centre - u.get(((a + 1) % p) * p + (b + 1) % p, 0) - u.get(((a + p - 1) % p) * p + (b + p - 1) % p, 0);
                double d = centre - u.get(((a + 1) % p) * p + (b + p - 1) % p, 0) - u.get(((a + p - 1) % p) * p + (b + 1) % p, 0);
                assertEquals(s, sum.get(a * p + b, 0), EXACT);
                assertEquals(d, diff.get(a * p + b, 0), EXACT);
            }
        }
    }

    @Test
    void restrictionIsSymmetricAndGivesModeEnergies() {
        FourierFamilies families = FourierFamilies.of(7);
        Matrix restricted = TorusLaplacian.alongSum(7).restrictedTo(families.basis(Family.SUM));
        assertEquals(0.0, restricted.maxAbsDifference(restricted.transpose()), 0.0);
        for (int k = 1; k <= 3; k++) {
            Matrix block = TorusLaplacian.alongSum(7).restrictedTo(families.frequencyBlock(Family.SUM, k));
            assertEquals(2 - 2 * Math.cos(2 * Math.PI * 2 * k / 7), block.get(0, 0), EXACT);
            assertEquals(0.0, TorusLaplacian.alongSum(7).restrictedTo(families.frequencyBlock(Family.DIFF, k))
                    .frobeniusNorm(), EXACT);
        }
    }

    @Test
    void rejectsVectorsOfTheWrongLength() {
        assertThrows(IllegalArgumentException.class, () -> TorusLaplacian.alongN(5).apply(new Matrix(24, 2)));
        assertThrows(IllegalArgumentException.class, () -> TorusLaplacian.alongN(1));
    }

    private static Matrix kron(Matrix x, Matrix y) {
        Matrix k = new Matrix(x.rows() * y.rows(), x.cols() * y.cols());
        for (int i = 0; i < x.rows(); i++) {
            for (int j = 0; j < x.cols(); j++) {
                for (int r = 0; r < y.rows(); r++) {
                    for (int c = 0; c < y.cols(); c++) {
                        k.set(i * y.rows() + r, j * y.cols() + c, x.get(i, j) * y.get(r, c));
                    }
                }
            }
        }
        return k;
    }
}
