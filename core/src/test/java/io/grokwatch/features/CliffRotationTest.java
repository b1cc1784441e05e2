package io.grokwatch.features;

import io.grokwatch.linalg.Matrix;
import io.grokwatch.linalg.Orthonormal;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A cliff built exactly from two families and scrambled by a random rotation must come apart into single modes:
 * every vector's best alignment >= 0.99 (in exact arithmetic it is 1; we see 1 - 1e-12), each (family, k) pair is
 * the best mode of exactly two vectors (its cos and sin directions), and the half that the first Laplacian cannot
 * see (energy < 1e-10) is the family it is blind to.
 */
class CliffRotationTest {
    private static final int P = 11;
    private static final double CLEAN = 0.99;
    private final FourierFamilies families = FourierFamilies.of(P);

    @Test
    void firstCliffSeparatesNAndMModes() {
        assertResolved(CliffRotation.firstCliff(families), Family.M, Family.N, 11);
    }

    @Test
    void secondCliffSeparatesSumAndDiffModes() {
        assertResolved(CliffRotation.secondCliff(families), Family.DIFF, Family.SUM, 12);
    }

    private void assertResolved(CliffRotation rotation, Family smooth, Family rough, long seed) {
        Matrix span = Fixtures.concat(families.basis(rough), families.basis(smooth));
        Matrix scrambled = span.times(Fixtures.orthogonal(2 * (P - 1), seed));
        RotatedCliff result = rotation.rotate(scrambled);

        int d = 2 * (P - 1);
        assertEquals(d, result.vectors().cols());
        assertTrue(Orthonormal.orthonormalityError(result.vectors()) < 1e-12);
        assertEquals(1.0, SubspaceOverlap.overlap(result.vectors(), span), 1e-12);

        Map<String, Integer> count = new HashMap<>();
        for (RotatedVector v : result.perVector()) {
            assertTrue(v.best().alignment() >= CLEAN, v.toString());
            Family expected = v.index() < d / 2 ? smooth : rough;
            assertEquals(expected, v.best().family(), v.toString());
            if (v.index() < d / 2) {
                assertEquals(0.0, v.firstEnergy(), 1e-10, "lower half must be invisible to the first Laplacian");
            }
            double k = v.best().frequency();
            // Energy of a single mode under its own family's step: 2 - 2 cos(2 pi k delta / p), delta = 1 (n, m) or 2.
            int delta = rough == Family.N ? 1 : 2;
            double energy = v.index() < d / 2 ? v.secondEnergy() : v.firstEnergy();
            assertEquals(2 - 2 * Math.cos(2 * Math.PI * k * delta / P), energy, 1e-10, v.toString());
            count.merge(v.best().mode(), 1, Integer::sum);
        }
        assertEquals(d / 2, count.size());
        assertTrue(count.values().stream().allMatch(c -> c == 2), count.toString());

        RotationSummary summary = result.summary();
        assertEquals(d, summary.vectorCount());
        assertEquals(d, summary.cleanVectors());
        assertEquals(d / 2, summary.distinctModes());
        assertTrue(summary.minBestAlignment() >= CLEAN);
        assertEquals(1.0, summary.meanBestAlignment(), 1e-10);
    }

    @Test
    void smallNoiseStillResolvesEveryMode() {
        // Noise of Frobenius norm 0.02 per column on unit columns: alignments drop by O(noise), well above 0.95.
        Matrix span = Fixtures.concat(families.basis(Family.SUM), families.basis(Family.DIFF))
                .times(Fixtures.orthogonal(20, 21));
        Matrix noise = Fixtures.gaussian(121, 20, 22).scaleInPlace(0.02 / Math.sqrt(121));
        RotatedCliff result = CliffRotation.secondCliff(families).rotate(span.addInPlace(1.0, noise));
        assertTrue(result.summary().minBestAlignment() >= 0.95, result.summary().toString());
        assertEquals(10, result.summary().distinctModes());
    }

    @Test
    void aRandomSubspaceIsReportedAsUnclean() {
        RotatedCliff result = CliffRotation.firstCliff(families).rotate(Fixtures.gaussian(121, 20, 31));
        assertTrue(result.summary().meanBestAlignment() < 0.7, result.summary().toString());
        assertTrue(result.summary().cleanVectors() < 5, result.summary().toString());
    }

    @Test
    void alignmentsCoverEveryFamilyAndFrequency() {
        RotatedCliff result = CliffRotation.firstCliff(families).rotate(families.basis(Family.N));
        RotatedVector v = result.perVector().get(0);
        assertEquals(Family.values().length, v.alignments().length);
        assertEquals(families.maxFrequency(), v.alignments()[0].length);
        assertEquals(v.best().alignment(), v.alignment(v.best().family(), v.best().frequency()), 0.0);
        assertEquals(0.0, v.alignment(Family.SUM, 1), 1e-12);
    }

    @Test
    void rejectsBasesOfTheWrongSize() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CliffRotation.firstCliff(families).rotate(new Matrix(100, 4)));
        assertTrue(e.getMessage().contains("100 x 4") && e.getMessage().contains("121"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CliffRotation.firstCliff(families).rotate(new Matrix(121, 3)));
        assertThrows(IllegalArgumentException.class, () -> CliffRotation.of(families, TorusLaplacian.alongN(7),
                TorusLaplacian.alongM(11)));
    }
}
