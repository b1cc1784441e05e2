package io.grokwatch.trainer;

import io.grokwatch.linalg.Matrix;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SparseParityTaskTest {
    @Test
    void theLabelIsTheParityOfTheFirstKBits() {
        Matrix x = Matrix.of(new double[][] {{1, 1, 1, -1}, {-1, 1, 1, -1}, {-1, -1, 1, 1}, {-1, -1, -1, 1}});
        assertArrayEquals(new int[] {0, 1, 0, 1}, SparseParityTask.labels(x, 3));
    }

    @Test
    void trainingFitsTheTrainingSet() {
        SparseParityTask t = SparseParityTask.create(new SparseParityTask.Config(8, 2, 64, 32, 32, 0.01, 0.0, 300, 1));
        double before = t.metrics().trainLoss();
        t.run(300, (epoch, step, params, m) -> true);
        TrainingMetrics after = t.metrics();
        assertTrue(after.trainLoss() < 0.2 * before, before + " -> " + after.trainLoss());
        assertEquals(1.0, after.trainAccuracy(), 0.0, "64 samples of 8 bits are memorised in 300 epochs");
    }

    @Test
    void configIsValidated() {
        assertThrows(IllegalArgumentException.class,
                () -> new SparseParityTask.Config(2, 3, 10, 10, 4, 0.01, 0.0, 1, 0));
        assertThrows(IllegalArgumentException.class,
                () -> new SparseParityTask.Config(8, 3, 1, 10, 4, 0.01, 0.0, 1, 0));
    }
}
