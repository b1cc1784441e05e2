package io.grokwatch.trainer;

import io.grokwatch.linalg.Matrix;
import io.grokwatch.model.Parameters;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdamWTest {

    private static Parameters random(SplittableRandom rng) {
        return new Parameters()
                .putMatrix("w", new Matrix(3, 2, rng.doubles(6).toArray()))
                .putVector("b", rng.doubles(2).toArray());
    }

    @Test
    void firstStepMovesEveryParameterByLrAgainstTheGradientSign() {
        Parameters p = new Parameters().putVector("x", new double[] {1.0, -2.0});
        Parameters g = new Parameters().putVector("x", new double[] {0.3, -1e-3});
        AdamW.adam(0.1).step(p, g);
        // m_hat = g, v_hat = g^2 after one step: update = lr * g / (|g| + eps).
        assertEquals(1.0 - 0.1 * 0.3 / (0.3 + 1e-8), p.get("x").data()[0], 1e-15);
        assertEquals(-2.0 + 0.1 * 1e-3 / (1e-3 + 1e-8), p.get("x").data()[1], 1e-15);
    }

    @Test
    void weightDecayIsDecoupled() {
        Parameters p = new Parameters().putVector("x", new double[] {2.0});
        AdamW.withDefaults(0.1, 0.5).step(p, new Parameters().putVector("x", new double[] {0.0}));
        assertEquals(2.0 * (1 - 0.1 * 0.5), p.get("x").data()[0], 1e-15);
    }

    @Test
    void restoredStateContinuesExactly() {
        SplittableRandom rng = new SplittableRandom(3);
        Parameters start = random(rng);
        Parameters[] grads = {random(rng), random(rng), random(rng), random(rng), random(rng)};
        Parameters straight = start.copy();
        AdamW a = AdamW.withDefaults(0.05, 0.01);
        for (Parameters g : grads) {
            a.step(straight, g);
        }
        Parameters resumed = start.copy();
        AdamW b = AdamW.withDefaults(0.05, 0.01);
        assertNull(b.firstMoment());
        for (int t = 0; t < 3; t++) {
            b.step(resumed, grads[t]);
        }
        AdamW c = AdamW.withDefaults(0.05, 0.01);
        c.restore(b.stepCount(), b.firstMoment(), b.secondMoment());
        for (int t = 3; t < 5; t++) {
            c.step(resumed, grads[t]);
        }
        assertEquals(5, c.stepCount());
        for (String name : straight.names()) {
            assertEquals(0.0, straight.get(name).maxAbsDifference(resumed.get(name)));
        }
    }

    @Test
    void rejectsMismatchedTensorsWithBothShapes() {
        Parameters p = new Parameters().putMatrix("w", new Matrix(2, 3));
        Parameters g = new Parameters().putMatrix("w", new Matrix(3, 2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AdamW.adam(0.1).step(p, g));
        assertTrue(e.getMessage().contains("[3, 2]") && e.getMessage().contains("[2, 3]"), e.getMessage());
        Parameters other = new Parameters().putMatrix("v", new Matrix(2, 3));
        assertThrows(IllegalArgumentException.class, () -> AdamW.adam(0.1).step(p, other));
    }

    @Test
    void rejectsInvalidHyperParameters() {
        assertThrows(IllegalArgumentException.class, () -> AdamW.adam(0.0));
        assertThrows(IllegalArgumentException.class, () -> AdamW.adam(0.1, 1.0, 0.999, 1e-8));
        assertThrows(IllegalArgumentException.class, () -> AdamW.adam(0.1, 0.9, -0.1, 1e-8));
        assertThrows(IllegalArgumentException.class, () -> AdamW.withDefaults(0.1, Double.NaN));
    }
}
