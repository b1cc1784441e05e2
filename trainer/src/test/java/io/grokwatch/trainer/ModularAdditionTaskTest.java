package io.grokwatch.trainer;

import io.grokwatch.model.Parameters;
import io.grokwatch.probe.ModularAddition;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Map;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModularAdditionTaskTest {

    @Test
    void defaultsAreThePaperSetting() {
        ModularAdditionTask.Config c = ModularAdditionTask.Config.defaults();
        assertEquals(new ModularAdditionTask.Config(29, 512, 0.7, 0.05, 0.01, 500, 0), c);
        assertEquals(588, c.trainSize());
        AdamW opt = (AdamW) ModularAdditionTask.create(c.withEpochs(0)).optimizer();
        assertEquals(0.05, opt.lr());
        assertEquals(0.9, opt.beta1());
        assertEquals(0.999, opt.beta2());
        assertEquals(1e-8, opt.eps());
        assertEquals(0.01, opt.weightDecay());
    }

    @Test
    void splitIsSeededDisjointAndCoversAllPairs() {
        ModularAdditionTask.Config c = new ModularAdditionTask.Config(11, 4, 0.3, 0.05, 0.01, 0, 5);
        ModularAdditionTask task = ModularAdditionTask.create(c);
        int[] train = task.trainIndices();
        int[] test = task.testIndices();
        assertEquals((int) Math.floor(121 * 0.3), train.length);
        int[] all = new int[121];
        System.arraycopy(train, 0, all, 0, train.length);
        System.arraycopy(test, 0, all, train.length, test.length);
        Arrays.sort(all);
        for (int i = 0; i < all.length; i++) {
            assertEquals(i, all[i]);
        }
        assertArrayEquals(train, ModularAdditionTask.create(c).trainIndices());
        assertFalse(Arrays.equals(train, ModularAdditionTask.create(c.withSeed(6)).trainIndices()));
        assertArrayEquals(ModularAddition.labels(11), task.labels());
        assertEquals(0.0, ModularAddition.inputs(11).maxAbsDifference(task.inputs()));
    }

    @Test
    void initialisationIsSeededStandardNormalWithStateDictNames() {
        ModularAdditionTask.Config c = ModularAdditionTask.Config.defaults().withEpochs(0);
        Parameters p = ModularAdditionTask.create(c).parameters();
        assertEquals(java.util.List.of(ModularAdditionTask.W1, ModularAdditionTask.W2), java.util.List.copyOf(p.names()));
        assertArrayEquals(new long[] {512, 58}, p.shape("net.0.weight"));
        assertArrayEquals(new long[] {29, 512}, p.shape("net.3.weight"));
        double[] w = p.get(ModularAdditionTask.W1).data();
        double mean = Arrays.stream(w).average().orElseThrow();
        double var = Arrays.stream(w).map(v -> (v - mean) * (v - mean)).sum() / w.length;
        assertEquals(0.0, mean, 0.02);
        assertEquals(1.0, var, 0.03);
        Parameters again = ModularAdditionTask.create(c).parameters();
        assertEquals(0.0, again.get(ModularAdditionTask.W2).maxAbsDifference(p.get(ModularAdditionTask.W2)));
    }

    @Test
    void metricsAgreeWithTheTrainingLoss() {
        ModularAdditionTask task = ModularAdditionTask.create(new ModularAdditionTask.Config(7, 16, 0.5, 0.05, 0.01, 3, 0));
        TrainingMetrics m = task.metrics();
        assertEquals(task.lossAndGradient(task.parameters()).loss(), m.trainLoss(), 1e-12);
        assertTrue(m.testLoss() > 0);
        assertTrue(m.trainAccuracy() >= 0 && m.trainAccuracy() <= 1);
        assertTrue(m.testAccuracy() >= 0 && m.testAccuracy() <= 1);
    }

    @Test
    void fromStateValidatesTrainingIndices() {
        ModularAdditionTask.Config c = new ModularAdditionTask.Config(5, 8, 0.7, 0.05, 0.01, 1, 0);
        Parameters p = ModularAdditionTask.create(c).parameters();
        assertThrows(IllegalArgumentException.class, () -> ModularAdditionTask.fromState(c, new int[] {0, 25}, p));
        assertThrows(IllegalArgumentException.class, () -> ModularAdditionTask.fromState(c, new int[] {1, 1}, p));
        assertThrows(IllegalArgumentException.class, () -> ModularAdditionTask.fromState(c, new int[0], p));
    }

    @Test
    void configRejectsBadValuesNamingTheKey() {
        ModularAdditionTask.Config d = ModularAdditionTask.Config.defaults();
        assertRejected("p", () -> d.withP(1));
        assertRejected("width", () -> d.withWidth(0));
        assertRejected("alpha", () -> d.withAlpha(0.0));
        assertRejected("alpha", () -> d.withAlpha(1.0));
        assertRejected("alpha", () -> d.withAlpha(Double.NaN));
        assertRejected("alpha", () -> d.withP(2).withAlpha(0.2)); // floor(4 * 0.2) = 0 training pairs
        assertRejected("lr", () -> d.withLr(0.0));
        assertRejected("weight-decay", () -> d.withWeightDecay(-0.1));
        assertRejected("epochs", () -> d.withEpochs(-1));
    }

    @Test
    void configFromMapUsesDefaultsAndRejectsUnknownKeys() {
        assertEquals(ModularAdditionTask.Config.defaults(), ModularAdditionTask.Config.fromMap(Map.of()));
        assertEquals(ModularAdditionTask.Config.defaults().withP(31).withAlpha(0.3).withSeed(2),
                ModularAdditionTask.Config.fromMap(Map.of("p", "31", "alpha", "0.3", "seed", "2")));
        assertRejected("weight-decay", () -> ModularAdditionTask.Config.fromMap(Map.of("weight-decay", "lots")));
        assertRejected("widht", () -> ModularAdditionTask.Config.fromMap(Map.of("widht", "3")));
    }

    static void assertRejected(String key, Supplier<?> build) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build::get);
        assertTrue(e.getMessage().startsWith(key) || e.getMessage().contains(key), e.getMessage());
    }
}
