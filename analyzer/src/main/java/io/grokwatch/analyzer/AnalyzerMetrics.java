package io.grokwatch.analyzer;

/** What the analyzer reports as it works; the observability layer binds it to Micrometer. */
public interface AnalyzerMetrics {
    void analysed(String runId, double seconds, double lagSeconds);

    void deadLettered(DeadLetterReason reason);

    /**
     * The latest analysed checkpoint of a run, as sent to the spectra topic (for per-run gauges); nothing by default.
     */
    default void spectrum(String runId, io.grokwatch.records.SpectrumRecord spectrum) {
    }

    /** The run said it ended ({@link io.grokwatch.records.RunEndRecord}); nothing by default. */
    default void ended(String runId, String status) {
    }

    /** A waiting checkpoint of a run replaced by a newer one ({@link Backlog#LATEST}); nothing by default. */
    default void superseded(String runId) {
    }

    /** An alert raised for a run; nothing by default. */
    default void alert(String runId, io.grokwatch.detect.Alert alert) {
    }

    /**
     * What the run's stored state says the detectors concluded, after each of its analysed checkpoints (before
     * {@link #spectrum}); nothing by default.
     */
    default void verdict(String runId, RunVerdict verdict) {
    }

    /**
     * The verdict of a run in the state of a task this instance has just taken up (on start, or after a
     * rebalance), before any new checkpoint of it; {@link #verdict} by default.
     */
    default void restored(String runId, RunVerdict verdict) {
        verdict(runId, verdict);
    }

    /**
     * The task holding the run closed (moved to another instance, or shutdown): its per-run series go; nothing by
     * default.
     */
    default void released(String runId) {
    }

    /**
     * Reports the metrics of the analyzer's Kafka Streams instance (and of its consumers, producer and admin
     * client) beside these, until the returned binding is closed; nothing by default.
     */
    default Binding streams(org.apache.kafka.streams.KafkaStreams streams) {
        return () -> { };
    }

    /** Meters bound to something that outlives them no longer; closing removes them. */
    interface Binding extends AutoCloseable {
        @Override
        void close();
    }

    /** Counts in memory: for tests and for the console narration of the demo. */
    final class Counting implements AnalyzerMetrics {
        private final java.util.concurrent.atomic.AtomicLong analysed = new java.util.concurrent.atomic.AtomicLong();
        private final java.util.concurrent.atomic.AtomicLong superseded = new java.util.concurrent.atomic.AtomicLong();
        private final java.util.Map<DeadLetterReason, java.util.concurrent.atomic.AtomicLong> dead =
                new java.util.concurrent.ConcurrentHashMap<>();
        private final java.util.List<String> ended = new java.util.concurrent.CopyOnWriteArrayList<>();

        @Override
        public void ended(String runId, String status) {
            ended.add(runId + ":" + status);
        }

        /** {@code run:status} of each run end seen, in order. */
        public java.util.List<String> ends() {
            return java.util.List.copyOf(ended);
        }

        @Override
        public void analysed(String runId, double seconds, double lagSeconds) {
            analysed.incrementAndGet();
        }

        @Override
        public void deadLettered(DeadLetterReason reason) {
            dead.computeIfAbsent(reason, r -> new java.util.concurrent.atomic.AtomicLong()).incrementAndGet();
        }

        @Override
        public void superseded(String runId) {
            superseded.incrementAndGet();
        }

        public long supersededCount() {
            return superseded.get();
        }

        public long analysedCount() {
            return analysed.get();
        }

        public long deadLetteredCount(DeadLetterReason reason) {
            var c = dead.get(reason);
            return c == null ? 0 : c.get();
        }
    }
}
