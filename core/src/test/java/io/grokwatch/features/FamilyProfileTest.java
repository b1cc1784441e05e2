package io.grokwatch.features;

import io.grokwatch.linalg.Matrix;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class FamilyProfileTest {
    private static final int P = 7;
    private static final double TOL = 1e-12; // exact shares up to rounding of the orthonormal bases

    /** Columns of the sum, diff and n bases side by side: the families are mutually orthogonal on the grid. */
    private static Matrix sumDiffN(FourierFamilies f) {
        Matrix[] parts = {f.basis(Family.SUM), f.basis(Family.DIFF), f.basis(Family.N)};
        int n = P * P;
        Matrix out = new Matrix(n, 3 * (P - 1));
        for (int b = 0; b < parts.length; b++) {
            for (int r = 0; r < n; r++) {
                for (int c = 0; c < P - 1; c++) {
                    out.set(r, b * (P - 1) + c, parts[b].get(r, c));
                }
            }
        }
        return out;
    }

    @Test
    void bandsOfTheFamilyWidthFindEachFamilyInItsBand() {
        FourierFamilies f = FourierFamilies.of(P);
        FamilyProfile profile = FamilyProfile.of(sumDiffN(f), f, P - 1);
        assertEquals(3, profile.bands().size());
        Family[] expected = {Family.SUM, Family.DIFF, Family.N};
        for (int b = 0; b < 3; b++) {
            FamilyProfile.Band band = profile.bands().get(b);
            assertEquals(b * (P - 1), band.from());
            for (Family family : Family.values()) {
                assertEquals(family == expected[b] ? 1.0 : 0.0, band.shares().get(family), TOL, family + " in band " + b);
            }
        }
    }

    @Test
    void sharesAddUpOverBandsToTheWholeEigenspaceOverlap() {
        FourierFamilies f = FourierFamilies.of(P);
        Matrix v = sumDiffN(f);
        FamilyProfile profile = FamilyProfile.of(v, f, 4); // 18 columns: bands of 4, 4, 4, 4 and 2
        assertEquals(5, profile.bands().size());
        assertEquals(18, profile.bands().get(4).to());
        // The first band holds 4 of the 6 sum columns, the second the other 2 and 2 of diff.
        assertEquals(4.0 / 6, profile.bands().get(0).shares().get(Family.SUM), TOL);
        assertEquals(2.0 / 6, profile.bands().get(1).shares().get(Family.SUM), TOL);
        assertEquals(2.0 / 6, profile.bands().get(1).shares().get(Family.DIFF), TOL);
        for (Family family : Family.values()) {
            double total = profile.bands().stream().mapToDouble(b -> b.shares().get(family)).sum();
            // Independent: the overlap of the whole span, through the explicit basis product.
            assertEquals(SubspaceOverlap.overlap(v, f.basis(family)), total, TOL, family.label());
        }
    }

    @Test
    void rejectsAnEmptyBandWidth() {
        FourierFamilies f = FourierFamilies.of(P);
        assertThrows(IllegalArgumentException.class, () -> FamilyProfile.of(sumDiffN(f), f, 0));
    }
}
