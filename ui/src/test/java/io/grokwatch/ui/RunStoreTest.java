package io.grokwatch.ui;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunStoreTest {
    @Test
    void aRunRowSaysTaskEpochPhaseLastAlertAndLag() {
        RunStore store = new RunStore();
        store.descriptor(new Records.Descriptor("a", Map.of("name", "modular-addition", "p", "29")));
        store.spectrum(Synthetic.modularAddition("a", 0, 200));
        store.spectrum(Synthetic.modularAddition("a", 60, 200));
        RunStore.RunRow row = store.rows().get(0);
        assertEquals("modular-addition p=29", row.task());
        assertEquals(60, row.epoch());
        assertEquals(RunStore.PHASE_NONE, row.phase());
        assertEquals(0.25, row.lagSeconds());
        store.alert(Synthetic.alert("a", "grokking-onset", 60, 0.5));
        assertEquals(RunStore.PHASE_ONSET, store.rows().get(0).phase());
        store.alert(Synthetic.alert("a", "generalization", 90, 1));
        store.alert(Synthetic.alert("a", "generalization", 90, 1)); // a duplicate is one alert
        row = store.rows().get(0);
        assertEquals(RunStore.PHASE_GENERALIZED, row.phase());
        assertEquals("generalization at epoch 90", row.lastAlert());
        assertEquals(2, store.run("a").orElseThrow().alerts().size());
    }

    @Test
    void theSameStepReplacesAndEveryChangeBumpsTheVersions() {
        RunStore store = new RunStore();
        store.spectrum(Synthetic.modularAddition("a", 10, 200));
        long v = store.version();
        long run = store.rows().get(0).version();
        store.spectrum(Synthetic.modularAddition("a", 10, 200));
        assertEquals(1, store.run("a").orElseThrow().checkpoints().size());
        assertTrue(store.version() > v && store.rows().get(0).version() > run);
        store.spectrum(Synthetic.modularAddition("b", 10, 200));
        assertEquals(store.rows().get(0).version(), store.run("a").orElseThrow().version(), "b leaves a as it was");
    }

    @Test
    void seriesAreBoundedAndSpectraTruncated() {
        RunStore store = new RunStore();
        for (int e = 0; e < 3 * RunStore.MAX_POINTS; e++) {
            store.spectrum(Synthetic.modularAddition("long", e, 800));
        }
        RunStore.RunSnapshot run = store.run("long").orElseThrow();
        assertTrue(run.checkpoints().size() <= RunStore.MAX_POINTS, "kept " + run.checkpoints().size());
        assertTrue(run.checkpoints().size() >= RunStore.MAX_POINTS / 2, "kept " + run.checkpoints().size());
        assertEquals(0, run.checkpoints().get(0).epoch(), "the first stays");
        assertEquals(3L * RunStore.MAX_POINTS - 1, run.last().orElseThrow().epoch(), "the newest stays");
        Checkpoint c = run.last().orElseThrow();
        assertEquals(RunStore.SPECTRUM_VALUES, c.whole().eigenvalues().length);
        assertEquals(RunStore.TOP_EIGENVALUES, c.kernels().get("net.0").eigenvalues().length);
        assertEquals("modular-addition", run.task(), "inferred from the spectrum without a descriptor");
    }

    @Test
    void theRunListKeepsTheOrderRunsWereFirstSeen() {
        RunStore store = Synthetic.store(5, 3);
        store.spectrum(Synthetic.modularAddition("run-000", 500, 200));
        assertEquals("run-000", store.rows().get(0).runId());
        assertEquals("run-004", store.rows().get(4).runId());
    }
}
