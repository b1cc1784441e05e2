package io.grokwatch.analyzer;

import com.fasterxml.jackson.databind.node.ObjectNode;
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
        assertNull(first.toSpectrumJson());
        assertTrue(Double.isNaN(first.load()));
        // p = 113 as streamed here: ten epochs in 0.7 s, 3.08 s per analysis.
        RunPace second = first.next(T0 + 700, 10, 0, 3.08);
        assertEquals(0.7, second.intervalSeconds(), 1e-12);
        assertEquals(3.08, second.serviceSeconds(), 1e-12);
        assertEquals(4.4, second.load(), 1e-12);
        assertEquals(2.38, second.lagGrowthSecondsPerCheckpoint(), 1e-12);
        assertEquals(44, second.epochsPerCheckpointToKeepUp());
        ObjectNode json = second.toSpectrumJson();
        assertFalse(json.get("keepingUp").asBoolean());
        assertEquals(10.0, json.get("epochsPerCheckpoint").asDouble(), 1e-12);
        assertEquals(2, json.get("checkpoints").asInt());
    }

    @Test
    void supersededCheckpointsShareTheIntervalAndTheEpochs() {
        // Under backlog=latest: 3 s since the last analysed checkpoint, 30 epochs, two checkpoints skipped between.
        RunPace p = RunPace.first(T0, 100).next(T0 + 3000, 130, 2, 2.5);
        assertEquals(1.0, p.intervalSeconds(), 1e-12);
        assertEquals(10.0, p.epochsPerCheckpoint(), 1e-12);
        assertEquals(2.5, p.load(), 1e-12);
        assertEquals(25, p.epochsPerCheckpointToKeepUp());
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
        assertTrue(p.toSpectrumJson().get("keepingUp").asBoolean());
        assertEquals(0.0, p.lagGrowthSecondsPerCheckpoint());
    }

    @Test
    void anExactMultipleIsNotRoundedUp() {
        // Load 2 at 10 epochs per checkpoint: every 20 epochs keeps up exactly.
        RunPace p = RunPace.first(T0, 0).next(T0 + 100, 10, 0, 0.2);
        assertEquals(20, p.epochsPerCheckpointToKeepUp());
    }

    @Test
    void behindIsReportedOutsideAMarginAroundOne() {
        RunPace p = RunPace.first(T0, 0).next(T0 + 1000, 10, 0, 1.05);
        assertFalse(p.behind(), "within the margin above 1");
        p = RunPace.first(T0, 0).next(T0 + 1000, 10, 0, 1.5);
        assertTrue(p.behind());
        // Back under 1 but within the margin: still behind until the load drops below 1 - margin.
        long t = T0 + 1000;
        while (p.load() > 0.95) {
            t += 1000;
            p = p.next(t, 10, 0, 0.95);
        }
        assertTrue(p.behind(), "load " + p.load());
        for (int i = 0; i < 20 && p.behind(); i++) {
            t += 1000;
            p = p.next(t, 10, 0, 0.5);
        }
        assertFalse(p.behind());
        assertTrue(p.load() < 1 - RunPace.MARGIN);
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
        assertEquals(0, p.epochsPerCheckpointToKeepUp());
        assertFalse(p.toSpectrumJson().has("epochsPerCheckpointToKeepUp"));
        assertFalse(p.describe(Backlog.ALL).contains("epochs"));
    }

    @Test
    void theLogLineSaysWhatEachBacklogDoesAndHowToKeepUp() {
        RunPace p = RunPace.first(T0, 0).next(T0 + 700, 10, 0, 3.08);
        String all = p.describe(Backlog.ALL);
        assertTrue(all.contains("lag grows by 2.38 s per checkpoint") && all.contains("every 44 epochs"), all);
        String latest = p.describe(Backlog.LATEST);
        assertTrue(latest.contains("about 77% of checkpoints will be superseded"), latest);
        String keepingUp = RunPace.first(T0, 0).next(T0 + 4000, 10, 0, 2.0).describe(Backlog.ALL);
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
