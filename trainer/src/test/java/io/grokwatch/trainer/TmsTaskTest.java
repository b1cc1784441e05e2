package io.grokwatch.trainer;

import io.grokwatch.linalg.Matrix;
import io.grokwatch.model.Parameters;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static io.grokwatch.trainer.ModularAdditionTaskTest.assertRejected;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TmsTaskTest {

    @Test
    void defaultsAreThePaperSparseSetting() {
        assertEquals(new TmsTask.Config(50, 10, 0.9, 0.8, 500, 5000, 1e-3, 0), TmsTask.Config.defaults());
        AdamW opt = (AdamW) TmsTask.create(TmsTask.Config.defaults().withEpochs(0)).optimizer();
        assertEquals(1e-3, opt.lr());
        assertEquals(0.0, opt.weightDecay());
    }

    @Test
    void datasetIsSparseAndRowNormalised() {
        TmsTask task = TmsTask.create(TmsTask.Config.defaults().withEpochs(0));
        Matrix x = task.dataset();
        assertEquals(500, x.rows());
        assertEquals(50, x.cols());
        long zeros = Arrays.stream(x.data()).filter(v -> v == 0.0).count();
        assertEquals(0.9, zeros / (double) x.data().length, 0.01);
        for (int r = 0; r < x.rows(); r++) {
            double norm = Math.sqrt(Arrays.stream(x.row(r)).map(v -> v * v).sum());
            assertTrue(norm == 0.0 || (norm <= 1 && norm > 1 - 1e-5), "row " + r + " has norm " + norm);
            assertTrue(Arrays.stream(x.row(r)).allMatch(v -> v >= 0));
        }
        assertEquals(0.0, x.maxAbsDifference(TmsTask.create(TmsTask.Config.defaults().withEpochs(0)).dataset()));
    }

    @Test
    void initialisationIsXavierNormalAndZeroBias() {
        TmsTask.Config c = TmsTask.Config.defaults().withHidden(40);
        Parameters p = TmsTask.create(c).parameters();
        assertEquals(List.of("W", "b"), List.copyOf(p.names()));
        assertArrayEquals(new long[] {40, 50}, p.shape("W"));
        assertArrayEquals(new long[] {50}, p.shape("b"));
        double[] w = p.get("W").data();
        double var = Arrays.stream(w).map(v -> v * v).sum() / w.length;
        assertEquals(2.0 / 90, var, 0.1 * 2.0 / 90);
        assertEquals(0.0, p.get("b").frobeniusNorm());
    }

    @Test
    void importancesArePowersOfTheBase() {
        double[] imp = TmsTask.create(TmsTask.Config.defaults().withEpochs(0)).importances();
        assertEquals(50, imp.length);
        assertEquals(1.0, imp[0]);
        assertEquals(0.8, imp[1], 1e-15);
        assertEquals(Math.pow(0.8, 49), imp[49], 1e-18);
    }

    @Test
    void representedFeaturesCountsDiagonalEntriesAtLeastThreeQuarters() {
        // W^T W diagonal = column norms squared: 1.0, 0.76, 0.74, 0.
        Matrix w = Matrix.of(new double[][] {{1.0, Math.sqrt(0.76), 0.0, 0.0}, {0.0, 0.0, Math.sqrt(0.74), 0.0}});
        Parameters p = new Parameters().putMatrix("W", w).putVector("b", new double[4]);
        assertEquals(2, TmsTask.representedFeatures(p));
    }

    @Test
    void shortRunReducesTheLoss() {
        TmsTask task = TmsTask.create(TmsTask.Config.defaults().withEpochs(500));
        List<Double> losses = new ArrayList<>();
        TrainingResult result = task.run(100, (epoch, step, params, metrics) -> {
            assertTrue(Double.isNaN(metrics.testLoss()) && Double.isNaN(metrics.testAccuracy())
                    && Double.isNaN(metrics.trainAccuracy()));
            losses.add(metrics.trainLoss());
            return true;
        });
        assertTrue(result.completed());
        assertEquals(6, losses.size());
        for (int i = 1; i < losses.size(); i++) {
            assertTrue(losses.get(i) < losses.get(i - 1), "loss must decrease between checkpoints: " + losses);
        }
        assertTrue(losses.get(5) < 0.5 * losses.get(0), "loss must at least halve in 500 epochs: " + losses);
        assertTrue(task.representedFeatures() >= 1);
    }

    @Test
    void configRejectsBadValuesNamingTheKey() {
        TmsTask.Config d = TmsTask.Config.defaults();
        assertRejected("features", () -> d.withFeatures(0));
        assertRejected("hidden", () -> d.withHidden(0));
        assertRejected("sparsity", () -> d.withSparsity(1.0));
        assertRejected("importance", () -> d.withImportanceBase(0.0));
        assertRejected("dataset-size", () -> d.withDatasetSize(0));
        assertRejected("epochs", () -> d.withEpochs(-5));
        assertRejected("lr", () -> d.withLr(-1e-3));
        assertRejected("sparsity", () -> TmsTask.Config.fromMap(Map.of("sparsity", "x")));
        assertEquals(d.withHidden(40).withSparsity(0.3), TmsTask.Config.fromMap(Map.of("hidden", "40", "sparsity", "0.3")));
    }
}
