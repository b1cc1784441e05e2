package io.grokwatch.trainer;

import io.micrometer.core.instrument.MockClock;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The trainer's meters in Prometheus format, and their removal once a run has been idle for the retention. */
class TrainerMetricsTest {
    @Test
    void epochsAndPublishedCheckpointsGiveTheTrainerSeries() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        MockClock clock = new MockClock();
        TrainerMetrics m = new TrainerMetrics(registry, Duration.ofMinutes(30), clock);
        m.checkpointPublished("ma-1", 0, new TrainingMetrics(3.4, 3.5, 0.05, 0.03), 120_000);
        for (int e = 1; e <= 10; e++) {
            m.epoch("ma-1", e, 0.02);
        }
        m.checkpointPublished("ma-1", 10, new TrainingMetrics(0.5, 2.9, 0.8, 0.1), 121_000);
        m.checkpointPublished("tms-1", 0, TrainingMetrics.trainLossOnly(0.2), 4_000);
        String text = registry.scrape();
        for (String expected : new String[] {
            "grokwatch_trainer_epoch{run=\"ma-1\"} 10.0",
            "grokwatch_trainer_train_loss{run=\"ma-1\"} 0.5",
            "grokwatch_trainer_test_loss{run=\"ma-1\"} 2.9",
            "grokwatch_trainer_train_accuracy{run=\"ma-1\"} 0.8",
            "grokwatch_trainer_test_accuracy{run=\"ma-1\"} 0.1",
            "grokwatch_trainer_test_accuracy{run=\"tms-1\"} NaN",
            "grokwatch_checkpoints_published_total{run=\"ma-1\"} 2.0",
            "grokwatch_checkpoint_size_bytes_count 3",
            "grokwatch_checkpoint_size_bytes_sum 245000.0",
            "grokwatch_checkpoint_size_bytes_bucket{le=",
            "grokwatch_trainer_epoch_seconds_count 10",
            "grokwatch_trainer_epoch_seconds_bucket{le="}) {
            assertTrue(text.contains(expected), "missing: " + expected + "\n" + text);
        }
        clock.add(31, TimeUnit.MINUTES);
        assertEquals(List.of("ma-1", "tms-1"), m.expire().stream().sorted().toList());
        String after = registry.scrape();
        assertFalse(after.contains("run=\""), after);
        assertTrue(after.contains("grokwatch_checkpoint_size_bytes_count 3"), after);
    }
}
