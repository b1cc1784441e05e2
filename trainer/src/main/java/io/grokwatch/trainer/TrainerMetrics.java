package io.grokwatch.trainer;

import io.grokwatch.observability.RunMeters;
import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.List;

/**
 * The trainer's metrics. Per run (label {@code run}, removed after the retention like the analyzer's):
 * {@code grokwatch_trainer_epoch}, {@code grokwatch_trainer_train_loss}, {@code grokwatch_trainer_test_loss},
 * {@code grokwatch_trainer_train_accuracy}, {@code grokwatch_trainer_test_accuracy} (as of the latest
 * checkpoint; NaN where the task has no such metric) and {@code grokwatch_checkpoints_published_total}. For the
 * service: {@code grokwatch_checkpoint_size_bytes} (distribution of published checkpoint sizes) and
 * {@code grokwatch_trainer_epoch_seconds} (wall time of one epoch's work: the optimizer step, plus evaluating
 * and publishing on checkpoint epochs; pacing excluded).
 */
public final class TrainerMetrics {
    private final RunMeters runs;
    private final DistributionSummary checkpointSize;
    private final Timer epochTime;

    /** Default retention, system clock. */
    public TrainerMetrics(MeterRegistry registry) {
        this(registry, RunMeters.DEFAULT_RETENTION, Clock.SYSTEM);
    }

    public TrainerMetrics(MeterRegistry registry, Duration retention, Clock clock) {
        this.runs = new RunMeters(registry, retention, clock);
        checkpointSize = DistributionSummary.builder("grokwatch.checkpoint.size").baseUnit("bytes")
                .description("Size of each published checkpoint (safetensors, before Kafka's compression)")
                .publishPercentileHistogram().maximumExpectedValue(32.0 * 1024 * 1024).register(registry);
        // The name ends in .seconds so that Prometheus' grokwatch_trainer_epoch (the per-run gauge) and this
        // timer's grokwatch_trainer_epoch_seconds stay separate Micrometer meters.
        epochTime = Timer.builder("grokwatch.trainer.epoch.seconds")
                .description("Wall time of one training epoch (optimizer step; on checkpoint epochs also evaluation "
                        + "and publishing; pacing excluded)")
                .publishPercentileHistogram().maximumExpectedValue(Duration.ofSeconds(60)).register(registry);
    }

    /** An epoch of the run finished: {@code epoch} epochs done, the last one took {@code seconds}. */
    public void epoch(String runId, long epoch, double seconds) {
        epochTime.record(Duration.ofNanos((long) (seconds * 1e9)));
        epochGauge(runId).set(epoch);
    }

    /** A checkpoint of the run was published: its epoch, the metrics of its parameters and its size. */
    public void checkpointPublished(String runId, long epoch, TrainingMetrics m, long bytes) {
        epochGauge(runId).set(epoch);
        runs.gauge(runId, "grokwatch.trainer.train.loss", "Training loss at the latest checkpoint").set(m.trainLoss());
        runs.gauge(runId, "grokwatch.trainer.test.loss", "Test loss at the latest checkpoint").set(m.testLoss());
        runs.gauge(runId, "grokwatch.trainer.train.accuracy", "Training accuracy at the latest checkpoint")
                .set(m.trainAccuracy());
        runs.gauge(runId, "grokwatch.trainer.test.accuracy", "Test accuracy at the latest checkpoint")
                .set(m.testAccuracy());
        runs.counter(runId, "grokwatch.checkpoints.published", "Checkpoints published to Kafka").increment();
        checkpointSize.record(bytes);
        runs.expire();
    }

    /** Removes the series of runs idle for the retention period; returns their ids. */
    public List<String> expire() {
        return runs.expire();
    }

    private RunMeters.Value epochGauge(String runId) {
        return runs.gauge(runId, "grokwatch.trainer.epoch", "Epochs the run has completed");
    }
}
