package io.grokwatch.cli;

import io.grokwatch.trainer.TrainingResult;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The demo's trainer warm-up: a bounded number of epochs of a copy, for both tasks. */
class TrainingPublicationTest {
    @Test
    void trainerWarmUpTrainsTheAskedEpochsOfACopy() {
        TaskOptions ma = new TaskOptions();
        ma.p = 7;
        ma.width = 16;
        TrainingPublication publication = new TrainingPublication(ma, "w");
        TrainingResult r = publication.warmUpTrainer(12);
        assertEquals(12, r.epoch());
        assertFalse(r.completed());
        // A copy: a second warm-up starts from epoch 0 again, and the run still has all its checkpoints ahead.
        assertEquals(12, publication.warmUpTrainer(12).epoch());
        assertEquals(500 / 10 + 1, publication.checkpoints());

        TaskOptions tms = new TaskOptions();
        tms.task = "tms";
        tms.epochs = 40;
        assertEquals(40, new TrainingPublication(tms, "t").warmUpTrainer(60).epoch(), "no more than the task has");
    }
}
