package io.grokwatch.analyzer;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The loads of the runs one analyzer serves, summed. Its runs share its cores and its stream threads, so a run's
 * checkpoints wait for the others' analyses too: two runs at load 0.6 each outpace the analyzer together. Shared by
 * every task of one topology (thread-safe).
 *
 * <p>A run counts while it is active: its last checkpoint was analysed within three of its checkpoint intervals,
 * and at least {@link #MIN_ACTIVE} ago, so a run that has ended drops out of the sum without a signal.
 */
final class AnalyzerLoad {
    /** A run stays in the sum at least this long after its last analysed checkpoint. */
    static final Duration MIN_ACTIVE = Duration.ofSeconds(10);

    /** How long after its last analysed checkpoint a run with this checkpoint interval still counts, in ms. */
    static long activeForMs(double intervalSeconds) {
        return (long) Math.max(MIN_ACTIVE.toMillis(), 3e3 * intervalSeconds);
    }

    private record Run(double load, double intervalSeconds, long analysedAtMs) {
        boolean activeAt(long nowMs) {
            return nowMs - analysedAtMs <= activeForMs(intervalSeconds);
        }
    }

    /**
     * @param load the runs' summed load, this one's included
     * @param runs how many runs it sums (at least 1)
     */
    record Total(double load, int runs) {
        /** One run alone: its own load. */
        static Total of(RunPace pace) {
            return new Total(pace.load(), 1);
        }
    }

    private final Map<String, Run> runs = new HashMap<>();

    /** Records a run's pace after an analysed checkpoint and returns the sum over the active runs, this one included. */
    synchronized Total record(String runId, RunPace pace, long nowMs) {
        if (!pace.known()) {
            throw new IllegalArgumentException("run '" + runId + "' has no pace yet (its first checkpoint)");
        }
        runs.put(runId, new Run(pace.load(), pace.intervalSeconds(), nowMs));
        runs.values().removeIf(r -> !r.activeAt(nowMs));
        double sum = 0;
        for (Run r : runs.values()) {
            sum += r.load();
        }
        return new Total(sum, runs.size());
    }

    /** A run that was deleted: it no longer counts. */
    synchronized void forget(String runId) {
        runs.remove(runId);
    }
}
