package io.grokwatch.analyzer;

import org.apache.kafka.common.errors.RetriableException;

import java.time.Duration;
import java.time.InstantSource;
import java.util.Objects;
import java.util.Optional;

/**
 * Counts the failures of the analyzer's stream threads that repeat: the same exception (classes and messages of its
 * whole chain, which for a processing failure name the task, topic, partition and offset) again within
 * {@link #WINDOW} of the last. Past the limit, the same input has been retried that many times and will not succeed:
 * the analyzer should stop and say so, not replace its thread forever while every run on the partition waits.
 * Retriable failures (a {@link RetriableException} in the chain: the broker away, a timeout) never count: the
 * analyzer has ridden out broker outages of minutes by itself, and must go on doing so.
 */
final class RepeatedFailures {
    /** A failure more than this long after the previous one starts the count afresh. */
    static final Duration WINDOW = Duration.ofMinutes(15);

    private final int maxRetries;
    private final InstantSource clock;
    private String last;
    private long lastAtMs;
    private int count;
    private String exhausted;

    /** @param maxRetries how often the same failure may be retried (by replacing the thread) before giving up */
    RepeatedFailures(int maxRetries, InstantSource clock) {
        if (maxRetries < 0) {
            throw new IllegalArgumentException(AnalyzerLimits.MAX_RECORD_RETRIES + " must be >= 0, got " + maxRetries);
        }
        this.maxRetries = maxRetries;
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** Records a failure; true when it has now repeated more often than the retries allow. */
    synchronized boolean failed(Throwable e) {
        if (retriable(e)) {
            return exhausted != null;
        }
        String signature = signature(e);
        long now = clock.millis();
        count = signature.equals(last) && now - lastAtMs <= WINDOW.toMillis() ? count + 1 : 1;
        last = signature;
        lastAtMs = now;
        if (count > maxRetries) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            exhausted = "the same failure " + count + " time(s) in a row (" + AnalyzerLimits.MAX_RECORD_RETRIES
                    + " = " + maxRetries + "): " + CheckpointProcessor.describe(e)
                    + (root == e ? "" : "; caused by " + CheckpointProcessor.describe(root));
        }
        return exhausted != null;
    }

    /** Why the analyzer gave up, once it has. */
    synchronized Optional<String> exhausted() {
        return Optional.ofNullable(exhausted);
    }

    private static boolean retriable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof RetriableException) {
                return true;
            }
        }
        return false;
    }

    private static String signature(Throwable e) {
        StringBuilder s = new StringBuilder();
        for (Throwable t = e; t != null && s.length() < 100_000; t = t.getCause()) {
            s.append(t.getClass().getName()).append(": ").append(t.getMessage()).append('\n');
        }
        return s.toString();
    }
}
