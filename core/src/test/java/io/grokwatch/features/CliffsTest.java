package io.grokwatch.features;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Ratios of exactly representable synthetic spectra are compared to 1e-12. */
class CliffsTest {
    private static final double EXACT = 1e-12;

    @Test
    void findsTheDropsBetweenPlateausSortedByPosition() {
        double[] spectrum = {10, 10, 10, 1, 1, 1, 1, 0.01, 0.009};
        List<Cliff> cliffs = Cliffs.detect(spectrum, 2.0, 10);
        assertEquals(2, cliffs.size());
        assertEquals(2, cliffs.get(0).position());
        assertEquals(10.0, cliffs.get(0).ratio(), EXACT);
        assertEquals(6, cliffs.get(1).position());
        assertEquals(100.0, cliffs.get(1).ratio(), EXACT);
    }

    @Test
    void maxCliffsKeepsTheSharpestDrops() {
        double[] spectrum = {64, 32, 32, 4, 4, 2, 1};   // ratios 2, 1, 8, 1, 2, 2
        List<Cliff> cliffs = Cliffs.detect(spectrum, 1.5, 2);
        assertEquals(List.of(new Cliff(0, 2.0), new Cliff(2, 8.0)), cliffs);
        assertEquals(List.of(), Cliffs.detect(spectrum, 1.5, 0));
        assertEquals(List.of(), Cliffs.detect(spectrum, 9.0, 5));
    }

    @Test
    void theNullSpaceIsFlatAndEnteringItIsAnInfiniteCliff() {
        double[] spectrum = {3, 2, 1e-15, 1e-17, 0, -1e-16, -2e-16};
        List<Cliff> cliffs = Cliffs.detect(spectrum, 1.2, 10);
        assertEquals(List.of(new Cliff(0, 1.5), new Cliff(1, Double.POSITIVE_INFINITY)), cliffs);
        assertEquals(1.0, Cliffs.ratio(spectrum, 4), 0.0);
        assertEquals(List.of(), Cliffs.detect(new double[]{0, 0, -1e-30}, 1.0, 5));
        assertEquals(List.of(), Cliffs.detect(new double[]{1}, 1.0, 5));
    }

    @Test
    void rejectsSpectraThatAreNotDescendingAndNonsenseLimits() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Cliffs.detect(new double[]{1, 2}, 2.0, 1));
        assertTrue(e.getMessage().contains("descending"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Cliffs.detect(new double[]{1, Double.NaN}, 2.0, 1));
        assertThrows(IllegalArgumentException.class, () -> Cliffs.detect(new double[]{2, 1}, 0.5, 1));
        assertThrows(IllegalArgumentException.class, () -> Cliffs.detect(new double[]{2, 1}, 2.0, -1));
        assertThrows(IllegalArgumentException.class, () -> Cliffs.ratio(new double[]{2, 1}, 1));
    }

    @Test
    void modularAdditionRangesForP29MatchScience() {
        ModularAdditionCliffs cliffs = Cliffs.modularAddition(29);
        assertEquals(new CliffRange(1, 56), cliffs.first());
        assertEquals(new CliffRange(57, 112), cliffs.second());
        assertEquals(56, cliffs.second().size());
    }

    @Test
    void endOfSecondCliffGapIsLambda4pMinus4OverTheNext() {
        int p = 5;
        double[] spectrum = new double[20];
        for (int i = 0; i < spectrum.length; i++) {
            spectrum[i] = i == 0 ? 10 : i <= 8 ? 4 : i <= 16 ? 2 : 1.6;
        }
        ModularAdditionCliffs cliffs = Cliffs.modularAddition(p);
        assertEquals(2.0 / 1.6, cliffs.endOfSecondCliffGap(spectrum), EXACT);
        List<Cliff> found = Cliffs.detect(spectrum, 1.1, 3);
        assertEquals(List.of(0, cliffs.first().last(), cliffs.second().last()),
                found.stream().map(Cliff::position).toList());
        assertThrows(IllegalArgumentException.class, () -> cliffs.endOfSecondCliffGap(new double[17]));
        assertThrows(IllegalArgumentException.class, () -> Cliffs.modularAddition(1));
    }

    @Test
    void cliffRangeSelectsColumns() {
        CliffRange range = new CliffRange(1, 3);
        assertEquals(3, range.columnsOf(Fixtures.gaussian(6, 4, 1)).cols());
        assertThrows(IllegalArgumentException.class, () -> range.columnsOf(Fixtures.gaussian(6, 3, 1)));
        assertThrows(IllegalArgumentException.class, () -> new CliffRange(3, 2));
    }
}
