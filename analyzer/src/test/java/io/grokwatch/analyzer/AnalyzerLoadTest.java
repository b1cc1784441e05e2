package io.grokwatch.analyzer;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The summed load of an analyzer's runs: each run's latest load while it is active, then nothing. */
class AnalyzerLoadTest {
    private static final long T0 = 1_790_000_000_000L;

    /** A pace with the given interval and service time (one interval seen). */
    private static RunPace pace(double intervalSeconds, double serviceSeconds) {
        return RunPace.first(T0, 0).next(T0 + Math.round(intervalSeconds * 1e3), 10, 0, serviceSeconds);
    }

    @Test
    void activeRunsAddUpAndEachCountsOnceWithItsLatestLoad() {
        AnalyzerLoad load = new AnalyzerLoad();
        AnalyzerLoad.Total one = load.record("a", pace(1.0, 0.6), 0);
        assertEquals(0.6, one.load(), 1e-12);
        assertEquals(1, one.runs());
        AnalyzerLoad.Total two = load.record("b", pace(2.0, 1.0), 500);
        assertEquals(1.1, two.load(), 1e-12);
        assertEquals(2, two.runs());
        // Run a again, now at 0.3: replaces its 0.6.
        assertEquals(0.8, load.record("a", pace(1.0, 0.3), 1000).load(), 1e-12);
    }

    @Test
    void aRunDropsOutThreeIntervalsOrTenSecondsAfterItsLastCheckpointWhicheverIsLater() {
        AnalyzerLoad load = new AnalyzerLoad();
        load.record("fast", pace(0.1, 0.05), 0);        // counts for 10 s (3 intervals are 0.3 s)
        load.record("slow", pace(20.0, 10.0), 0);       // counts for 60 s
        assertEquals(3, load.record("other", pace(1.0, 0.1), 10_000).runs());
        AnalyzerLoad.Total later = load.record("other", pace(1.0, 0.1), 10_001);
        assertEquals(2, later.runs(), "fast has ended");
        assertEquals(0.6, later.load(), 1e-12);
        assertEquals(1, load.record("other", pace(1.0, 0.1), 60_001).runs(), "slow has ended");
        load.forget("other");
        assertEquals(1, load.record("fast", pace(0.1, 0.05), 60_002).runs());
    }

    @Test
    void aRunWithoutAPaceCannotBeRecorded() {
        assertThrows(IllegalArgumentException.class, () -> new AnalyzerLoad().record("a", RunPace.first(T0, 0), 0));
    }
}
