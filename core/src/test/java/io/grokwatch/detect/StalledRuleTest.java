package io.grokwatch.detect;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The stalled rule: quiet for its threshold (10 usual intervals, at least 120 s), not for an abandoned run. */
class StalledRuleTest {
    private final StalledRule rule = new StalledRule(StalledRule.Config.DEFAULT);

    @Test
    void theThresholdIsTenIntervalsButNeverUnderTwoMinutes() {
        assertEquals(120_000, rule.thresholdMs(1.0), "1 s checkpoints: the floor");
        assertEquals(300_000, rule.thresholdMs(30.0), "30 s checkpoints: ten of them");
        assertEquals(120_000, rule.thresholdMs(Double.NaN), "one checkpoint so far: the floor");
    }

    @Test
    void firesOncePastTheThresholdAndNotForARunAbandonedLongBefore() {
        long last = 1_000_000;
        assertTrue(rule.check(last + 299_000, last, 30.0, 7, 70).isEmpty(), "within ten intervals");
        Alert a = rule.check(last + 301_000, last, 30.0, 7, 70).orElseThrow();
        assertEquals(StalledRule.NAME, a.type());
        assertEquals(7, a.epoch());
        assertEquals(70, a.step());
        assertEquals(301.0, a.evidence().number("silentSeconds"), 1e-9);
        assertEquals(300.0, a.evidence().number("thresholdSeconds"), 1e-9);
        assertEquals(0.5, a.confidence(), 0.01, "at the threshold");
        assertEquals(1.0, rule.check(last + 600_000, last, 30.0, 7, 70).orElseThrow().confidence(), 1e-9,
                "twice the threshold");
        assertTrue(rule.check(last + 300_000 + StalledRule.LATE_MS + 1, last, 30.0, 7, 70).isEmpty(),
                "quiet for over an hour past its threshold: abandoned before the analyzer could see it stall");
    }

    @Test
    void itsKeysAreTheSuitesAndAreChecked() {
        DetectorSuite suite = DetectorSuite.fromConfig(Map.of("stalled.intervals", "4", "stalled.min-seconds", "30"));
        assertEquals(120_000, suite.stalled().thresholdMs(30.0));
        assertEquals(30_000, suite.stalled().thresholdMs(1.0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DetectorSuite.fromConfig(Map.of("stalled.intervals", "0.5")));
        assertTrue(e.getMessage().contains("stalled.intervals"), e.getMessage());
    }
}
