package io.grokwatch.trainer;

import io.grokwatch.model.Parameters;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The checkpoint schedule, stopping and resuming of {@link FullBatchTask#run}. */
class FullBatchTaskTest {

    private static ModularAdditionTask tiny(int epochs) {
        return ModularAdditionTask.create(new ModularAdditionTask.Config(7, 16, 0.5, 0.05, 0.01, epochs, 0));
    }

    @Test
    void reportsEpochZeroEveryIntervalAndTheLastEpoch() {
        ModularAdditionTask task = tiny(25);
        List<Integer> epochs = new ArrayList<>();
        List<Long> steps = new ArrayList<>();
        TrainingResult result = task.run(10, (epoch, step, params, metrics) -> {
            epochs.add(epoch);
            steps.add(step);
            return true;
        });
        assertEquals(List.of(0, 10, 20, 25), epochs);
        assertEquals(List.of(0L, 10L, 20L, 25L), steps);
        assertEquals(new TrainingResult(25, 25, true), result);
        assertEquals(25, task.epoch());
    }

    @Test
    void listenerGetsACopyOfTheParametersAndTheirMetrics() {
        ModularAdditionTask task = tiny(4);
        List<Parameters> copies = new ArrayList<>();
        task.run(2, (epoch, step, params, metrics) -> {
            assertEquals(task.evaluate(params), metrics);
            copies.add(params);
            params.get(ModularAdditionTask.W1).scaleInPlace(0.0); // must not reach the live parameters
            return true;
        });
        assertEquals(3, copies.size());
        assertNotEquals(0.0, task.parameters().get(ModularAdditionTask.W1).frobeniusNorm());
        ModularAdditionTask replay = tiny(4);
        for (int e = 0; e < 4; e++) {
            replay.step();
        }
        assertEquals(0.0, replay.parameters().get(ModularAdditionTask.W1)
                .maxAbsDifference(task.parameters().get(ModularAdditionTask.W1)));
    }

    @Test
    void listenerReturningFalseStopsAndRunResumesWithoutRepeatingCheckpoints() {
        ModularAdditionTask task = tiny(30);
        List<Integer> epochs = new ArrayList<>();
        TrainingResult first = task.run(10, (epoch, step, params, metrics) -> {
            epochs.add(epoch);
            return epoch < 10;
        });
        assertEquals(new TrainingResult(10, 10, false), first);
        TrainingResult second = task.run(10, (epoch, step, params, metrics) -> epochs.add(epoch));
        assertTrue(second.completed());
        assertEquals(List.of(0, 10, 20, 30), epochs);
    }

    @Test
    void stopFlagStopsBeforeTheNextEpoch() {
        ModularAdditionTask task = tiny(100);
        AtomicBoolean stop = new AtomicBoolean();
        TrainingResult result = task.run(5, (epoch, step, params, metrics) -> {
            if (epoch == 15) {
                stop.set(true);
            }
            return true;
        }, stop::get);
        assertEquals(new TrainingResult(15, 15, false), result);
    }

    @Test
    void interruptStopsTrainingAndKeepsTheFlag() {
        ModularAdditionTask task = tiny(100);
        try {
            TrainingResult result = task.run(10, (epoch, step, params, metrics) -> {
                if (epoch == 20) {
                    Thread.currentThread().interrupt();
                }
                return true;
            });
            assertFalse(result.completed());
            assertEquals(20, result.epoch());
            assertTrue(Thread.currentThread().isInterrupted());
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void zeroEpochsReportsTheInitialState() {
        List<Integer> epochs = new ArrayList<>();
        TrainingResult result = tiny(0).run(10, (epoch, step, params, metrics) -> epochs.add(epoch));
        assertEquals(List.of(0), epochs);
        assertEquals(new TrainingResult(0, 0, true), result);
    }

    @Test
    void rejectsANonPositiveInterval() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> tiny(5).run(0, (epoch, step, params, metrics) -> true));
        assertTrue(e.getMessage().contains("every"), e.getMessage());
    }
}
