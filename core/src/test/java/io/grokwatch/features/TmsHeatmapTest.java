package io.grokwatch.features;

import io.grokwatch.linalg.Matrix;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Synthetic identities to 1e-12. The numpy cross-check uses 1e-9: tms_reference.heatmap adds 1e-10 to every norm
 * it divides by, which shifts its values by up to a few 1e-10.
 */
class TmsHeatmapTest {
    private static final double EXACT = 1e-12;
    private static final int D = 20;
    private static final int N = 6;

    @Test
    void eigenvectorsEqualToFeatureIndicatorsRecoverExactlyThoseFeatures() {
        Matrix x = sparseDataset();
        int[] features = {3, 0, 5, 3};
        double[] scales = {1.0, -2.5, 0.1, 7.0};   // neither sign nor scale of u may matter
        Matrix u = new Matrix(N * D, features.length);
        for (int i = 0; i < features.length; i++) {
            for (int s = 0; s < D; s++) {
                u.set(features[i] * D + s, i, scales[i] * x.get(s, features[i]));
            }
        }
        TmsHeatmap heatmap = TmsHeatmap.compute(x, u);
        assertArrayEquals(features, heatmap.argmax());
        assertArrayEquals(new double[]{1, 1, 1, 1}, heatmap.max(), EXACT);
        assertEquals(Set.of(0, 3, 5), heatmap.recovered(0.9));
        assertEquals(3, heatmap.recoveredFeatures());
        Matrix h = heatmap.values();
        assertEquals(N, h.rows());
        assertEquals(features.length, h.cols());
        assertEquals(0.0, h.get(1, 0) + h.get(2, 0) + h.get(4, 0) + h.get(5, 0), EXACT);
    }

    @Test
    void anEvenMixOfTwoFeaturesIsNotARecovery() {
        Matrix x = sparseDataset();
        Matrix u = new Matrix(N * D, 1);
        double n1 = norm(x, 1);
        double n2 = norm(x, 2);
        for (int s = 0; s < D; s++) {
            u.set(D + s, 0, x.get(s, 1) / n1);
            u.set(2 * D + s, 0, x.get(s, 2) / n2);
        }
        TmsHeatmap heatmap = TmsHeatmap.compute(x, u);
        assertEquals(Math.sqrt(0.5), heatmap.max()[0], EXACT);
        assertEquals(0, heatmap.recoveredFeatures(0.9));
        assertEquals(1, heatmap.recoveredFeatures(0.7));
    }

    @Test
    void matchesTheNumpyReference() {
        // tms_x.csv, tms_u.csv, tms_expected.csv come from make_expected.py (tms_reference.dataset / heatmap).
        Matrix x = Fixtures.csvMatrix("tms_x.csv");
        Matrix u = Fixtures.csvMatrix("tms_u.csv");
        Matrix expected = Fixtures.csvMatrix("tms_expected.csv");
        Matrix actual = TmsHeatmap.compute(x, u).values();
        assertEquals(expected.rows(), actual.rows());
        assertEquals(expected.cols(), actual.cols());
        assertTrue(actual.maxAbsDifference(expected) < 1e-9, "max difference " + actual.maxAbsDifference(expected));
    }

    @Test
    void zeroColumnsAndSilentFeaturesStayZero() {
        Matrix x = sparseDataset();
        for (int s = 0; s < D; s++) {
            x.set(s, 4, 0.0);
        }
        Matrix u = Fixtures.gaussian(N * D, 3, 9);
        for (int r = 0; r < N * D; r++) {
            u.set(r, 1, 0.0);
        }
        TmsHeatmap heatmap = TmsHeatmap.compute(x, u);
        Matrix h = heatmap.values();
        for (int i = 0; i < 3; i++) {
            assertEquals(0.0, h.get(4, i), 0.0);
        }
        assertEquals(0.0, heatmap.max()[1], 0.0);
        assertEquals(1.0, Math.sqrt(sq(h.column(0))), EXACT);
    }

    @Test
    void rejectsEigenvectorsOfTheWrongLength() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TmsHeatmap.compute(new Matrix(D, N), new Matrix(N * D - 1, 2)));
        assertTrue(e.getMessage().contains("119 x 2") && e.getMessage().contains("20 x 6"), e.getMessage());
    }

    private static Matrix sparseDataset() {
        Matrix x = Fixtures.gaussian(D, N, 42);
        double[] d = x.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = i % 7 == 0 ? 0.0 : Math.abs(d[i]);
        }
        return x;
    }

    private static double norm(Matrix x, int column) {
        return Math.sqrt(sq(x.column(column)));
    }

    private static double sq(double[] v) {
        double s = 0;
        for (double a : v) {
            s += a * a;
        }
        return s;
    }
}
