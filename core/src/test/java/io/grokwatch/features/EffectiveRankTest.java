package io.grokwatch.features;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Closed-form values compared to 1e-12. */
class EffectiveRankTest {
    private static final double EXACT = 1e-12;

    @Test
    void equalEigenvaluesCountThemselves() {
        assertEquals(4.0, EffectiveRank.of(new double[]{2, 2, 2, 2}), EXACT);
        assertEquals(1.0, EffectiveRank.of(new double[]{5}), EXACT);
    }

    @Test
    void unevenWeightsGiveTheEntropyExponential() {
        // p = (1/2, 1/4, 1/4): entropy 1.5 ln 2, so exp = 2^1.5.
        assertEquals(Math.pow(2, 1.5), EffectiveRank.of(new double[]{2, 1, 1}), EXACT);
    }

    @Test
    void zerosAndRoundingNegativesAreIgnored() {
        assertEquals(2.0, EffectiveRank.of(new double[]{3, 3, 0, -1e-17}), EXACT);
        assertEquals(0.0, EffectiveRank.of(new double[]{0, -1e-17}), 0.0);
        assertEquals(0.0, EffectiveRank.of(new double[0]), 0.0);
        assertThrows(IllegalArgumentException.class, () -> EffectiveRank.of(new double[]{1, Double.NaN}));
    }
}
