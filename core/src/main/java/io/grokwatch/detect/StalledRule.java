package io.grokwatch.detect;

import io.grokwatch.records.Evidence;

import java.util.Optional;

/**
 * A run has gone quiet: no checkpoint for many times its usual interval, and it has not said it ended. Unlike the
 * detectors this is about time passing, not about a checkpoint, so the analyzer asks it on a timer. Fires once per
 * silence; the next checkpoint of the run resolves it.
 */
public final class StalledRule {
    public static final String NAME = "stalled";
    /**
     * A run silent for longer than this past its threshold is not reported: it was abandoned before this analyzer
     * could have seen it stall (a run of an older version without an end, or one the analyzer was down for).
     */
    public static final long LATE_MS = 3_600_000L;

    /**
     * @param intervals  {@code stalled.intervals}, default 10: the silence, in the run's own checkpoint intervals
     *                   (moving average), after which it counts as stalled. A loaded machine stretches intervals by
     *                   2-3x; 10 leaves room for that and for an evaluation pass that takes a few intervals.
     * @param minSeconds {@code stalled.min-seconds}, default 120: never sooner than this, so a run checkpointing every
     *                   second is not called stalled over a pause for a garbage collection or a broker hiccup.
     */
    public record Config(double intervals, double minSeconds) {
        public static final Config DEFAULT = new Config(10, 120);

        public Config {
            if (!(intervals >= 1) || !Double.isFinite(intervals)) {
                throw new IllegalArgumentException("stalled.intervals must be a number >= 1, got " + intervals);
            }
            if (!(minSeconds > 0) || !Double.isFinite(minSeconds)) {
                throw new IllegalArgumentException("stalled.min-seconds must be a number > 0, got " + minSeconds);
            }
        }
    }

    private final Config config;

    public StalledRule(Config config) {
        this.config = java.util.Objects.requireNonNull(config, "config");
    }

    public Config config() {
        return config;
    }

    /** How long a run with this usual interval may be silent before it counts as stalled, in milliseconds. */
    public long thresholdMs(double intervalSeconds) {
        double seconds = Double.isFinite(intervalSeconds) && intervalSeconds > 0
                ? Math.max(config.minSeconds(), config.intervals() * intervalSeconds) : config.minSeconds();
        return Math.round(seconds * 1000);
    }

    /**
     * The alert for a run whose last checkpoint (of {@code epoch} and {@code step}) was produced at
     * {@code lastCheckpointMs}, or nothing while it is within its threshold or past it by more than {@link #LATE_MS}.
     *
     * @param intervalSeconds the run's usual time between checkpoints, NaN before it has two
     */
    public Optional<Alert> check(long nowMs, long lastCheckpointMs, double intervalSeconds, long epoch, long step) {
        long threshold = thresholdMs(intervalSeconds);
        long silent = nowMs - lastCheckpointMs;
        if (silent <= threshold || silent > threshold + LATE_MS) {
            return Optional.empty();
        }
        Evidence ev = Evidence.of("no checkpoint for many times the run's usual interval, and the run has not said "
                        + "it ended").put("silentSeconds", silent / 1000.0)
                .put("usualIntervalSeconds", intervalSeconds).put("thresholdSeconds", threshold / 1000.0)
                .put("intervals", config.intervals()).put("minSeconds", config.minSeconds()).build();
        // 0.5 at the threshold, 1 at twice it: the longer the silence, the surer.
        double confidence = Math.min(1.0, 0.5 * silent / (double) threshold);
        return Optional.of(new Alert(NAME, epoch, step, confidence, ev));
    }
}
