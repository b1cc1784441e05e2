package io.grokwatch.features;

import io.grokwatch.linalg.Matrix;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tolerances: identities (self overlap, orthogonal families, basis invariance) to 1e-12; the numpy cross-check to
 * 1e-10 (same definition, different QR and summation order).
 */
class SubspaceOverlapTest {
    private static final double EXACT = 1e-12;
    private static final double NUMPY = 1e-10;

    private final FourierFamilies p11 = FourierFamilies.of(11);

    @Test
    void aFamilyFullyOverlapsItselfAndNotAnOrthogonalOne() {
        for (Family family : Family.values()) {
            assertEquals(1.0, SubspaceOverlap.overlap(p11.basis(family), p11.basis(family)), EXACT);
        }
        assertEquals(0.0, SubspaceOverlap.overlap(p11.basis(Family.N), p11.basis(Family.M)), EXACT);
        assertEquals(0.0, SubspaceOverlap.overlap(p11.basis(Family.SUM), p11.basis(Family.DIFF)), EXACT);
    }

    @Test
    void overlapDependsOnlyOnTheSpans() {
        Matrix q = Fixtures.gaussian(121, 15, 1);
        Matrix mixed = q.times(Fixtures.gaussian(15, 15, 2));    // any invertible mix, not only a rotation
        Matrix rotated = q.times(Fixtures.orthogonal(15, 3));
        for (Family family : Family.values()) {
            double reference = SubspaceOverlap.overlap(q, p11.basis(family));
            assertTrue(reference > 0.0 && reference < 1.0);
            assertEquals(reference, SubspaceOverlap.overlap(mixed, p11.basis(family)), EXACT);
            assertEquals(reference, SubspaceOverlap.overlap(rotated, p11.basis(family)), EXACT);
            Matrix rotatedFamily = p11.basis(family).times(Fixtures.orthogonal(10, 4));
            assertEquals(reference, SubspaceOverlap.overlap(q, rotatedFamily), EXACT);
        }
    }

    @Test
    void aSpanContainingTheFamilyCapturesAllOfItAndDuplicatesDoNotCount() {
        Matrix q = Fixtures.concat(p11.basis(Family.SUM).times(Fixtures.gaussian(10, 10, 5)), Fixtures.gaussian(121, 4, 6));
        assertEquals(1.0, SubspaceOverlap.overlap(q, p11.basis(Family.SUM)), EXACT);
        Matrix half = p11.basis(Family.DIFF).columns(0, 5);
        assertEquals(0.5, SubspaceOverlap.overlap(Fixtures.concat(half, half), p11.basis(Family.DIFF)), EXACT);
    }

    /**
     * The per-family overlaps come from level-set sums of v(a, b), never from the family's basis; they must equal
     * the projection onto the explicit orthonormal basis, for an even modulus (whose top frequency has no sine) too.
     */
    @Test
    void levelSetOverlapsEqualProjectionsOntoTheFamilyBases() {
        for (int p : new int[] {12, 13}) {
            FourierFamilies families = FourierFamilies.of(p);
            Matrix q = io.grokwatch.linalg.Orthonormal.columns(Fixtures.gaussian(p * p, 2 * p, p));
            Map<Family, Double> fast = SubspaceOverlap.overlapsOfOrthonormal(q, families);
            for (Family family : Family.values()) {
                Matrix f = families.basis(family);
                assertEquals(p - 1, f.cols());
                double s = q.transposeTimes(f).frobeniusNorm();
                assertEquals(s * s / f.cols(), fast.get(family), EXACT, "p=" + p + " " + family);
            }
        }
    }

    @Test
    void overlapsOfAllFamiliesAgreeWithSingleCalls() {
        Matrix q = Fixtures.gaussian(121, 30, 7);
        Map<Family, Double> all = SubspaceOverlap.overlaps(q, p11);
        for (Family family : Family.values()) {
            assertEquals(SubspaceOverlap.overlap(q, p11.basis(family)), all.get(family), EXACT);
        }
    }

    @Test
    void matchesTheNumpyReference() {
        // overlap_q.csv and overlap_expected.csv come from make_expected.py (ma_reference.fourier / overlap), p = 7.
        FourierFamilies p7 = FourierFamilies.of(7);
        Matrix q = Fixtures.csvMatrix("overlap_q.csv");
        List<String[]> expected = Fixtures.csv("overlap_expected.csv");
        assertEquals(4, expected.size());
        for (String[] row : expected) {
            Family family = Family.ofLabel(row[0]);
            assertEquals(Double.parseDouble(row[1]), SubspaceOverlap.overlap(q, p7.basis(family)), NUMPY, row[0]);
        }
    }

    @Test
    void mismatchedRowsNameBothShapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SubspaceOverlap.overlap(new Matrix(120, 3), p11.basis(Family.N)));
        assertTrue(e.getMessage().contains("120 x 3") && e.getMessage().contains("121 x 10"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SubspaceOverlap.overlaps(new Matrix(49, 3), p11));
        assertThrows(IllegalArgumentException.class, () -> SubspaceOverlap.overlap(new Matrix(5, 2), new Matrix(5, 2)));
    }
}
