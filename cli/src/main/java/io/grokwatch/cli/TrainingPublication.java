package io.grokwatch.cli;

import io.grokwatch.run.CheckpointMetadata;
import io.grokwatch.run.RunDescriptor;
import io.grokwatch.trainer.FullBatchTask;
import io.grokwatch.trainer.ModularAdditionTask;
import io.grokwatch.trainer.RunDescriptors;
import io.grokwatch.trainer.RunPublisher;
import io.grokwatch.trainer.TmsTask;
import io.grokwatch.trainer.TrainingMetrics;

import java.util.function.BooleanSupplier;

/** Trains the task of {@link TaskOptions} and publishes its descriptor and checkpoints. */
final class TrainingPublication {
    /** Called after each published checkpoint. */
    interface Progress {
        void published(long epoch, long step, TrainingMetrics metrics);
    }

    private final TaskOptions options;
    private final FullBatchTask task;
    private final RunDescriptor descriptor;
    private final int every;

    TrainingPublication(TaskOptions options, String runId) {
        this.options = options;
        this.every = options.checkpointEvery();
        if (options.modularAddition()) {
            ModularAdditionTask.Config c = options.modularAdditionConfig();
            this.task = ModularAdditionTask.create(c);
            this.descriptor = RunDescriptors.modularAddition(runId, c, every, options.topK);
        } else {
            TmsTask t = TmsTask.create(options.tmsConfig());
            this.task = t;
            this.descriptor = RunDescriptors.tms(runId, t, every);
        }
    }

    RunDescriptor descriptor() {
        return descriptor;
    }

    int epochs() {
        return task.epochs();
    }

    /** Number of checkpoints the run will publish. */
    int checkpoints() {
        int e = task.epochs();
        return e / every + 1 + (e % every == 0 ? 0 : 1);
    }

    /**
     * @param epochMillis minimum wall time per epoch (0 = as fast as training goes); the trainer's stop check
     *                    runs once per epoch, so pacing happens there
     */
    void run(RunPublisher publisher, Progress progress, BooleanSupplier stop, int epochMillis) {
        publisher.publishDescriptor(descriptor);
        long start = System.nanoTime();
        long[] epochs = {0};
        BooleanSupplier pacedStop = epochMillis == 0 ? stop : () -> {
            epochs[0]++;
            long due = start + epochs[0] * epochMillis * 1_000_000L;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                try {
                    Thread.sleep(wait / 1_000_000L, (int) (wait % 1_000_000L));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return true;
                }
            }
            return stop.getAsBoolean();
        };
        task.run(every, (epoch, step, params, metrics) -> {
            CheckpointMetadata meta = CheckpointMetadata.of(step, epoch).withMetrics(metrics.trainLoss(),
                    metrics.testLoss(), metrics.trainAccuracy(), metrics.testAccuracy());
            publisher.publishCheckpoint(params, meta);
            progress.published(epoch, step, metrics);
            return !stop.getAsBoolean();
        }, pacedStop);
    }

    TaskOptions options() {
        return options;
    }
}
