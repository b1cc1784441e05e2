package io.grokwatch.cli;

import io.grokwatch.records.RunEndRecord;

import io.grokwatch.run.CheckpointMetadata;
import io.grokwatch.run.CheckpointRecord;
import io.grokwatch.run.RunDescriptor;
import io.grokwatch.trainer.FullBatchTask;
import io.grokwatch.trainer.ModularAdditionTask;
import io.grokwatch.trainer.RunDescriptors;
import io.grokwatch.trainer.RunPublisher;
import io.grokwatch.trainer.TmsTask;
import io.grokwatch.trainer.TrainerMetrics;
import io.grokwatch.trainer.TrainingMetrics;

import java.util.concurrent.atomic.AtomicBoolean;
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
    private final AtomicBoolean publishing = new AtomicBoolean();
    private long publishedBefore = -1;

    TrainingPublication(TaskOptions options, String runId) {
        this(options, runId, io.grokwatch.run.RunLimits.DEFAULTS);
    }

    /**
     * @param limits what the analyzer accepts of a run: a run over them is refused here, before anything is trained
     *               or sent
     */
    TrainingPublication(TaskOptions options, String runId, io.grokwatch.run.RunLimits limits) {
        this.options = options;
        this.every = options.checkpointEvery();
        if (options.modularAddition()) {
            ModularAdditionTask.Config c = options.modularAdditionConfig();
            limits.checkGenerator("modular-addition:p=" + c.p(), null);
            this.task = ModularAdditionTask.create(c);
            this.descriptor = RunDescriptors.modularAddition(runId, c, every, options.topK)
                    .withPrecision(options.precision());
        } else {
            TmsTask t = TmsTask.create(options.tmsConfig());
            this.task = t;
            this.descriptor = RunDescriptors.tms(runId, t, every).withPrecision(options.precision());
        }
        limits.check(descriptor);
    }

    RunDescriptor descriptor() {
        return descriptor;
    }

    /**
     * A rerun of a run whose checkpoints up to {@code step} are already on the topic: training is deterministic
     * (seeded split and initialisation, full batches), so the run is trained again from the start and publishes
     * only the checkpoints after {@code step}, which continue the run exactly where it stopped (the analyzer
     * would take earlier steps as stale). -1 publishes everything.
     */
    void continueAfter(long step) {
        if (step < -1) {
            throw new IllegalArgumentException("step must be >= -1, got " + step);
        }
        this.publishedBefore = step;
    }

    int epochs() {
        return task.epochs();
    }

    /**
     * Trains a throwaway copy of the task for {@code epochs} epochs, encoding its checkpoints without sending them, so
     * that the JIT has compiled the training step before the run starts. For a trainer that shares its JVM with the
     * analyzer (the demo): there the step's first compilation (most of a second of compiler time for modular addition
     * at p = 29; docs/benchmarks.md) otherwise lands on the first checkpoints' analyses. The run is not affected: the
     * copy is a task of its own, from the same options.
     *
     * @return how the copy's training ended ({@code epochs} epochs, unless the task has fewer)
     */
    io.grokwatch.trainer.TrainingResult warmUpTrainer(int epochs) {
        FullBatchTask copy = options.modularAddition() ? ModularAdditionTask.create(options.modularAdditionConfig())
                : TmsTask.create(options.tmsConfig());
        int[] left = {epochs};
        return copy.run(every, (epoch, step, params, m) -> {
            CheckpointRecord.encode(params, CheckpointMetadata.of(step, epoch).withMetrics(m.trainLoss(),
                    m.testLoss(), m.trainAccuracy(), m.testAccuracy()));
            return true;
        }, () -> left[0]-- <= 0);
    }

    /** Number of checkpoints the run will publish. */
    int checkpoints() {
        int e = task.epochs();
        return e / every + 1 + (e % every == 0 ? 0 : 1);
    }

    /** Whether the run's descriptor is out and training is under way (the trainer's readiness). */
    boolean publishing() {
        return publishing.get();
    }

    /** {@link #run(RunPublisher, Progress, BooleanSupplier, int, TrainerMetrics)} without metrics. */
    void run(RunPublisher publisher, Progress progress, BooleanSupplier stop, int epochMillis) {
        run(publisher, progress, stop, epochMillis, null);
    }

    /**
     * @param epochMillis minimum wall time per epoch (0 = as fast as training goes); the trainer's stop check
     *                    runs once per epoch, so pacing happens there
     * @param metrics     where epochs and published checkpoints are counted, or null
     */
    void run(RunPublisher publisher, Progress progress, BooleanSupplier stopAsked, int epochMillis,
             TrainerMetrics metrics) {
        // Whether training ended because it was told to: the run's end then says "stopped", not "completed".
        boolean[] stopped = {false};
        BooleanSupplier stop = () -> {
            boolean s = stopAsked.getAsBoolean();
            stopped[0] |= s;
            return s;
        };
        long[] lastStep = {publishedBefore};
        publisher.publishDescriptor(descriptor);
        publishing.set(true);
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
        try {
            task.run(every, (epoch, step, params, m) -> {
                if (step <= publishedBefore) {
                    progress.published(epoch, step, m); // trained through again; on the topic already
                    return !stop.getAsBoolean();
                }
                CheckpointMetadata meta = CheckpointMetadata.of(step, epoch).withMetrics(m.trainLoss(),
                        m.testLoss(), m.trainAccuracy(), m.testAccuracy());
                byte[] checkpoint = CheckpointRecord.encode(params, meta);
                publisher.publishCheckpoint(checkpoint);
                lastStep[0] = step;
                if (metrics != null) {
                    metrics.checkpointPublished(descriptor.runId(), epoch, m, checkpoint.length);
                }
                progress.published(epoch, step, m);
                return !stop.getAsBoolean();
            }, metrics == null ? pacedStop : timed(pacedStop, metrics));
            publisher.publishEnd(stopped[0] ? RunEndRecord.STOPPED : RunEndRecord.COMPLETED, lastStep[0]);
        } catch (RuntimeException | Error e) {
            try {
                publisher.publishEnd(RunEndRecord.FAILED, lastStep[0]);
            } catch (RuntimeException notSent) {
                e.addSuppressed(notSent); // the broker may be what failed; the analyzer then reports the run stalled
            }
            throw e;
        } finally {
            publishing.set(false);
        }
    }

    /**
     * The stop check runs once per epoch, before its optimizer step: the time from the end of one check to the
     * start of the next is one epoch's work (the step, and on checkpoint epochs evaluating and publishing),
     * without the pacing sleep, which happens inside the check.
     */
    private BooleanSupplier timed(BooleanSupplier stop, TrainerMetrics metrics) {
        long[] lastCheckEnd = {0};
        return () -> {
            long now = System.nanoTime();
            if (lastCheckEnd[0] != 0) {
                metrics.epoch(descriptor.runId(), task.epoch(), (now - lastCheckEnd[0]) / 1e9);
            }
            boolean result = stop.getAsBoolean();
            lastCheckEnd[0] = System.nanoTime();
            return result;
        };
    }

    TaskOptions options() {
        return options;
    }
}
