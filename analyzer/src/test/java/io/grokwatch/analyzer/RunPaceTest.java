package io.grokwatch.analyzer;

import io.grokwatch.records.SpectrumRecord;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pace arithmetic: intervals from timestamps, moving averages, load, the advice, and the reporting hysteresis. */
class RunPaceTest {
    private static final long T0 = 1_790_000_000_000L;

    @Test
    void theFirstCheckpointHasNoPaceAndTheSecondGivesItExactly() {
        RunPace first = RunPace.first(T0, 0);
        assertFalse(first.known());
        assertNull(first.reported(new AnalyzerLoad.Total(Double.NaN, 1)));
        assertTrue(Double.isNaN(first.load()));
        // p = 113 as streamed here: ten epochs in 0.7 s, 3.08 s per analysis.
        RunPace second = first.next(T0 + 700, 10, 0, 3.08);
        assertEquals(0.7, second.intervalSeconds(), 1e-12);
        assertEquals(3.08, second.serviceSeconds(), 1e-12);
        assertEquals(4.4, second.load(), 1e-12);
        assertEquals(2.38, second.lagGrowthSecondsPerCheckpoint(AnalyzerLoad.Total.of(second)), 1e-12);
        assertEquals(44, second.epochsPerCheckpointToKeepUp(AnalyzerLoad.Total.of(second)));
        SpectrumRecord.Pace reported = second.reported(AnalyzerLoad.Total.of(second));
        assertFalse(reported.keepingUp());
        assertEquals(10.0, reported.epochsPerCheckpoint(), 1e-12);
        assertEquals(2, reported.checkpoints());
    }

    @Test
    void supersededCheckpointsShareTheIntervalAndTheEpochs() {
        // Under backlog=latest: 3 s since the last analysed checkpoint, 30 epochs, two checkpoints skipped between.
        RunPace p = RunPace.first(T0, 100).next(T0 + 3000, 130, 2, 2.5);
        assertEquals(1.0, p.intervalSeconds(), 1e-12);
        assertEquals(10.0, p.epochsPerCheckpoint(), 1e-12);
        assertEquals(2.5, p.load(), 1e-12);
        assertEquals(25, p.epochsPerCheckpointToKeepUp(AnalyzerLoad.Total.of(p)));
    }

    @Test
    void averagesWeighTheNewestCheckpointByTheWeight() {
        RunPace p = RunPace.first(T0, 0).next(T0 + 2000, 10, 0, 1.0).next(T0 + 3000, 20, 0, 3.0);
        double w = RunPace.WEIGHT;
        assertEquals((1 - w) * 2.0 + w * 1.0, p.intervalSeconds(), 1e-12);
        assertEquals((1 - w) * 1.0 + w * 3.0, p.serviceSeconds(), 1e-12);
        assertEquals(p.serviceSeconds() / p.intervalSeconds(), p.load(), 1e-12);
        assertEquals(2, p.intervals());
        // A steady pace converges to itself: 20 checkpoints 0.5 s apart taking 0.25 s each.
        for (int i = 1; i <= 20; i++) {
            p = p.next(T0 + 3000 + 500L * i, 20 + 10L * i, 0, 0.25);
        }
        assertEquals(0.5, p.intervalSeconds(), 2e-3);
        assertEquals(0.5, p.load(), 5e-3);
        assertTrue(p.reported(AnalyzerLoad.Total.of(p)).keepingUp());
        assertEquals(0.0, p.lagGrowthSecondsPerCheckpoint(AnalyzerLoad.Total.of(p)));
    }

    @Test
    void anExactMultipleIsNotRoundedUp() {
        // Load 2 at 10 epochs per checkpoint: every 20 epochs keeps up exactly.
        RunPace p = RunPace.first(T0, 0).next(T0 + 100, 10, 0, 0.2);
        assertEquals(20, p.epochsPerCheckpointToKeepUp(AnalyzerLoad.Total.of(p)));
    }

    @Test
    void behindIsJudgedOutsideAMarginAroundOne() {
        RunPace p = judgedAlone(RunPace.first(T0, 0).next(T0 + 1000, 10, 0, 1.05));
        assertFalse(p.behind(), "within the margin above 1");
        p = judgedAlone(RunPace.first(T0, 0).next(T0 + 1000, 10, 0, 1.5));
        assertTrue(p.behind());
        // Back under 1 but within the margin: still behind until the load drops below 1 - margin.
        long t = T0 + 1000;
        while (p.load() > 0.95) {
            t += 1000;
            p = judgedAlone(p.next(t, 10, 0, 0.95));
        }
        assertTrue(p.behind(), "load " + p.load());
        for (int i = 0; i < 20 && p.behind(); i++) {
            t += 1000;
            p = judgedAlone(p.next(t, 10, 0, 0.5));
        }
        assertFalse(p.behind());
        assertTrue(p.load() < 1 - RunPace.MARGIN);
    }

    @Test
    void runsSharingTheAnalyzerAreJudgedByTheirSum() {
        // Two runs at 0.6 each: neither outpaces the analyzer alone, together they do.
        RunPace a = RunPace.first(T0, 0).next(T0 + 1000, 10, 0, 0.6);
        AnalyzerLoad.Total both = new AnalyzerLoad.Total(1.2, 2);
        RunPace judged = a.judged(both);
        assertTrue(judged.behind());
        SpectrumRecord.Pace reported = judged.reported(both);
        assertEquals(0.6, reported.load(), 1e-12);
        assertEquals(1.2, reported.analyzerLoad(), 1e-12);
        assertEquals(2, reported.runsSharingTheAnalyzer());
        assertFalse(reported.keepingUp());
        // In one of its 1 s intervals the analyzer has 1.2 s of work: its lag grows by 0.2 s per checkpoint.
        assertEquals(0.2, reported.lagGrowthSecondsPerCheckpoint(), 1e-12);
        // Both spacing their checkpoints out 1.2x: every 12 epochs.
        assertEquals(12, reported.epochsPerCheckpointToKeepUp());
        String line = judged.describe(Backlog.ALL, both);
        assertTrue(line.contains("2 runs share the analyzer, total load 1.20") && line.contains("every 12 epochs")
                && line.contains("if the other runs space theirs out as much"), line);
        assertFalse(a.judged(AnalyzerLoad.Total.of(a)).behind(), "alone it keeps up");
    }

    private static RunPace judgedAlone(RunPace p) {
        return p.judged(AnalyzerLoad.Total.of(p));
    }

    @Test
    void aCheckpointStampedBeforeTheLastTeachesNothingAndOneInTheSameMillisecondCountsHalfOfOne() {
        RunPace p = RunPace.first(T0, 0).next(T0 + 1000, 10, 0, 0.5);
        RunPace skewed = p.next(T0 + 900, 20, 0, 5.0);
        assertEquals(p.intervalSeconds(), skewed.intervalSeconds());
        assertEquals(p.serviceSeconds(), skewed.serviceSeconds());
        assertEquals(p.intervals(), skewed.intervals());
        assertEquals(T0 + 1000, skewed.lastTimestampMs());
        assertEquals(20, skewed.lastEpoch());
        // A tiny model trains several epochs per millisecond: same stamp, 0.5 ms apart on average.
        RunPace fast = RunPace.first(T0, 0).next(T0, 5, 0, 0.002);
        assertEquals(5e-4, fast.intervalSeconds(), 1e-15);
        assertEquals(4.0, fast.load(), 1e-12);
        assertEquals(2.5e-4, RunPace.first(T0, 0).next(T0, 10, 1, 0.002).intervalSeconds(), 1e-15);
        assertThrows(IllegalArgumentException.class, () -> p.next(T0 + 2000, 20, -1, 0.5));
        assertThrows(IllegalArgumentException.class, () -> p.next(T0 + 2000, 20, 0, Double.NaN));
    }

    @Test
    void aRunWithoutEpochsGetsNoEpochAdvice() {
        RunPace p = RunPace.first(T0, 0).next(T0 + 100, 0, 0, 0.5);
        assertEquals(0, p.epochsPerCheckpointToKeepUp(AnalyzerLoad.Total.of(p)));
        assertNull(p.reported(AnalyzerLoad.Total.of(p)).epochsPerCheckpointToKeepUp());
        assertFalse(p.describe(Backlog.ALL, AnalyzerLoad.Total.of(p)).contains("epochs"));
    }

    @Test
    void theLogLineSaysWhatEachBacklogDoesAndHowToKeepUp() {
        RunPace p = RunPace.first(T0, 0).next(T0 + 700, 10, 0, 3.08);
        String all = p.describe(Backlog.ALL, AnalyzerLoad.Total.of(p));
        assertTrue(all.contains("lag grows by 2.38 s per checkpoint") && all.contains("every 44 epochs"), all);
        String latest = p.describe(Backlog.LATEST, AnalyzerLoad.Total.of(p));
        assertTrue(latest.contains("about 77% of checkpoints will be superseded"), latest);
        RunPace slow = RunPace.first(T0, 0).next(T0 + 4000, 10, 0, 2.0);
        String keepingUp = slow.describe(Backlog.ALL, AnalyzerLoad.Total.of(slow));
        assertTrue(keepingUp.contains("load 0.50") && !keepingUp.contains("lag grows"), keepingUp);
    }

    @Test
    void thePaceSurvivesTheStateStoreAndOldStatesHaveNone() {
        RunPace p = RunPace.first(T0, 0).next(T0 + 700, 10, 0, 3.08).next(T0 + 1400, 20, 0, 3.0);
        RunState state = new RunState(20, 20, 3, 0, new double[] {1, 0.5}, null, p);
        RunState back = RunState.read(state.toBytes());
        assertEquals(p, back.pace());
        // Records compare doubles as Double.compare does, so the first pace's NaNs compare equal.
        assertEquals(RunPace.first(T0, 0), RunState.read(new RunState(0, 0, 1, 0, new double[0], null,
                RunPace.first(T0, 0)).toBytes()).pace());
        byte[] old = "{\"lastStep\":5,\"lastEpoch\":5,\"analysed\":1,\"superseded\":0,\"lastEigenvalues\":[1.0]}"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertNull(RunState.read(old).pace());
    }
}
