package io.grokwatch.features;

import io.grokwatch.linalg.Matrix;
import io.grokwatch.linalg.Orthonormal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tolerances: orthonormality and centring hold to 1e-12 (rounding of p^2-term sums of unit-scale values). */
class FourierFamiliesTest {
    private static final double EXACT = 1e-12;

    @ParameterizedTest
    @ValueSource(ints = {2, 4, 12, 13})
    void theDimensionTheOverlapsDivideByIsTheBasisWidthWithoutBuildingIt(int p) {
        FourierFamilies families = FourierFamilies.of(p);
        for (Family family : Family.values()) {
            assertEquals(families.basis(family).cols(), families.dimension(family), family.label() + " p=" + p);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {3, 7, 11, 29})
    void everyFamilyIsAnOrthonormalCentredBasisOfPMinusOneColumns(int p) {
        FourierFamilies families = FourierFamilies.of(p);
        for (Family family : Family.values()) {
            Matrix f = families.basis(family);
            assertEquals(p * p, f.rows(), family.label());
            assertEquals(p - 1, f.cols(), family.label());
            assertTrue(Orthonormal.orthonormalityError(f) < EXACT, family.label());
            for (int j = 0; j < f.cols(); j++) {
                double sum = 0;
                for (double v : f.column(j)) {
                    sum += v;
                }
                assertEquals(0.0, sum, EXACT, family.label() + " column " + j + " is not centred");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {5, 11})
    void theFourFamiliesAreMutuallyOrthogonalForPrimeP(int p) {
        FourierFamilies families = FourierFamilies.of(p);
        for (Family x : Family.values()) {
            for (Family y : Family.values()) {
                if (x != y) {
                    double cross = families.basis(x).transposeTimes(families.basis(y)).frobeniusNorm();
                    assertEquals(0.0, cross, EXACT, x + " vs " + y);
                }
            }
        }
    }

    @Test
    void frequencyBlocksAreNormalisedCosSinPairsThatTileTheFamily() {
        FourierFamilies families = FourierFamilies.of(7);
        for (Family family : Family.values()) {
            Matrix tiled = new Matrix(49, 0);
            for (int k = 1; k <= families.maxFrequency(); k++) {
                Matrix block = families.frequencyBlock(family, k);
                assertEquals(2, block.cols());
                assertTrue(Orthonormal.orthonormalityError(block) < EXACT);
                int x = families.probeIndex(2, 5);
                double angle = 2 * Math.PI * k * family.value(2, 5, 7) / 7;
                double scale = Math.sqrt(2.0 / 49);   // centred cos/sin over p^2 inputs have norm sqrt(p^2/2)
                assertEquals(Math.cos(angle) * scale, block.get(x, 0), EXACT);
                assertEquals(Math.sin(angle) * scale, block.get(x, 1), EXACT);
                tiled = Fixtures.concat(tiled, block);
            }
            assertEquals(1.0, SubspaceOverlap.overlap(tiled, families.basis(family)), EXACT);
        }
    }

    @Test
    void alignmentIsPhaseInsensitive() {
        FourierFamilies families = FourierFamilies.of(11);
        double[] u = new double[121];
        for (int a = 0; a < 11; a++) {
            for (int b = 0; b < 11; b++) {
                u[families.probeIndex(a, b)] = Math.cos(2 * Math.PI * 3 * (a - b) / 11 + 0.7) * Math.sqrt(2.0 / 121);
            }
        }
        assertEquals(1.0, families.alignment(u, Family.DIFF, 3), EXACT);
        assertEquals(0.0, families.alignment(u, Family.DIFF, 2), EXACT);
        assertEquals(0.0, families.alignment(u, Family.SUM, 3), EXACT);
    }

    @Test
    void evenModulusDropsTheVanishingSineOfTheNyquistFrequency() {
        FourierFamilies families = FourierFamilies.of(8);
        assertEquals(7, families.basis(Family.SUM).cols());
        assertEquals(1, families.frequencyBlock(Family.SUM, 4).cols());
    }

    @Test
    void probeOrderIsAMajor() {
        FourierFamilies families = FourierFamilies.of(5);
        assertEquals(25, families.probeCount());
        assertEquals(3 * 5 + 4, families.probeIndex(3, 4));
        assertEquals(3, Family.DIFF.value(1, 3, 5));
        assertEquals(2, Family.SUM.value(4, 3, 5));
        assertEquals(Family.DIFF, Family.ofLabel("diff"));
    }

    @Test
    void invalidArgumentsAreRejectedWithTheirValues() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FourierFamilies.of(1)).getMessage().contains("1"));
        FourierFamilies families = FourierFamilies.of(5);
        assertThrows(IllegalArgumentException.class, () -> families.frequencyBlock(Family.N, 3));
        assertThrows(IllegalArgumentException.class, () -> families.probeIndex(5, 0));
        assertThrows(IllegalArgumentException.class, () -> families.alignment(new double[24], Family.N, 1));
        assertThrows(IllegalArgumentException.class, () -> Family.ofLabel("prod"));
    }
}
