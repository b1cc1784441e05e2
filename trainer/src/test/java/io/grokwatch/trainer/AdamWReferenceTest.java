package io.grokwatch.trainer;

import io.grokwatch.linalg.Matrix;
import io.grokwatch.model.Parameters;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Optimizer steps against values computed by the numpy reference update rule, transcribed in the committed
 * script {@code src/test/resources/io/grokwatch/trainer/adam_reference.py} (which generated the fixtures).
 * Every tensor must agree to 1e-12 (max absolute difference) after each of 5 steps.
 */
class AdamWReferenceTest {
    private static final double TOLERANCE = 1e-12;

    @Test
    void adamWAndAdamMatchTheReferenceUpdateRuleForFiveSteps() {
        Fixtures f = Fixtures.load("optimizer.txt");
        check(f, "adamw", AdamW.withDefaults(0.05, 0.01));
        check(f, "adam", AdamW.adam(1e-3));
    }

    private static void check(Fixtures f, String label, AdamW opt) {
        Parameters params = new Parameters()
                .putMatrix("A", f.matrix(label + ".A.0"))
                .putVector("b", f.vector(label + ".b.0"));
        for (int t = 1; t <= 5; t++) {
            Parameters grads = new Parameters()
                    .putMatrix("A", f.matrix(label + ".gA." + t))
                    .putVector("b", f.vector(label + ".gb." + t));
            opt.step(params, grads);
            assertEquals(t, opt.stepCount());
            assertClose(f.matrix(label + ".A." + t), params.get("A"), label + " A after step " + t);
            assertClose(new Matrix(1, 5, f.vector(label + ".b." + t)), params.get("b"), label + " b after step " + t);
            assertClose(f.matrix(label + ".mA." + t), opt.firstMoment().get("A"), label + " m(A) after step " + t);
            assertClose(f.matrix(label + ".vA." + t), opt.secondMoment().get("A"), label + " v(A) after step " + t);
        }
    }

    @Test
    void modularAdditionTrainingStepsMatchTheReference() {
        Fixtures f = Fixtures.load("ma.txt");
        ModularAdditionTask.Config config = new ModularAdditionTask.Config(5, 8, 0.7, 0.05, 0.01, 5, 0);
        Parameters init = new Parameters()
                .putMatrix(ModularAdditionTask.W1, f.matrix("W1.0"))
                .putMatrix(ModularAdditionTask.W2, f.matrix("W2.0"));
        ModularAdditionTask task = ModularAdditionTask.fromState(config, f.indices("train"), init);
        for (int t = 1; t <= 5; t++) {
            double loss = task.step();
            assertEquals(f.scalar("loss." + (t - 1)), loss, TOLERANCE, "loss before step " + t);
            Parameters p = task.parameters();
            assertClose(f.matrix("W1." + t), p.get(ModularAdditionTask.W1), "W1 after step " + t);
            assertClose(f.matrix("W2." + t), p.get(ModularAdditionTask.W2), "W2 after step " + t);
        }
        assertEquals(5, task.optimizer().stepCount());
    }

    @Test
    void tmsTrainingStepsMatchTheReference() {
        Fixtures f = Fixtures.load("tms.txt");
        Matrix x = f.matrix("X");
        TmsTask.Config config = new TmsTask.Config(6, 3, 0.5, 0.8, x.rows(), 5, 1e-3, 0);
        Parameters init = new Parameters()
                .putMatrix(TmsTask.W, f.matrix("W.0"))
                .putVector(TmsTask.B, f.vector("b.0"));
        TmsTask task = TmsTask.fromState(config, x, init);
        for (int t = 1; t <= 5; t++) {
            double loss = task.step();
            assertEquals(f.scalar("loss." + (t - 1)), loss, TOLERANCE, "loss before step " + t);
            Parameters p = task.parameters();
            assertClose(f.matrix("W." + t), p.get(TmsTask.W), "W after step " + t);
            assertClose(new Matrix(1, 6, f.vector("b." + t)), p.get(TmsTask.B), "b after step " + t);
        }
    }

    private static void assertClose(Matrix expected, Matrix actual, String what) {
        double diff = expected.maxAbsDifference(actual);
        assertTrue(diff < TOLERANCE, what + ": max |java - numpy| = " + diff + " >= " + TOLERANCE);
    }
}
