package io.grokwatch.ui;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecordFilesTest {
    @TempDir
    Path dir;

    @Test
    void demoLinesGiveSpectraAndAlertsAndSkipDeadLetters() throws Exception {
        Path f = dir.resolve("run.jsonl");
        String spectrum = Records.MAPPER.writeValueAsString(Synthetic.modularAddition("ma-1", 60, 20));
        Files.writeString(f, "{\"kind\":\"spectrum\"," + spectrum.substring(1) + "\n"
                + "{\"kind\":\"alert\",\"runId\":\"ma-1\",\"type\":\"grokking-onset\",\"epoch\":60,\"step\":60,"
                + "\"confidence\":0.5,\"evidence\":{\"x\":1}}\n"
                + "{\"kind\":\"deadLetter\",\"reason\":\"stale-step\"}\n");
        RunStore store = new RunStore();
        assertEquals(new RecordFiles.Read(1, 1, 1), RecordFiles.read(f, store));
        RunStore.RunSnapshot run = store.run("ma-1").orElseThrow();
        assertEquals(60, run.last().orElseThrow().epoch());
        assertEquals("grokking-onset", run.alerts().get(0).type());
    }

    @Test
    void anExperimentIsOneRunNamedAfterItsFile() throws Exception {
        Path f = dir.resolve("ma.json");
        Files.writeString(f, "{\"experiment\": \"modular-addition\", \"config\": {\"p\": 29, \"width\": 512},\n"
                + " \"checkpoints\": [{\"epoch\": 0, \"trainAccuracy\": 0.1, \"eigenvalues\": [3, 2, 1]},\n"
                + "                 {\"epoch\": 10, \"trainAccuracy\": 0.5, \"eigenvalues\": [4, 2, 1]}],\n"
                + " \"alerts\": [{\"type\": \"grokking-onset\", \"epoch\": 10, \"step\": 10, \"confidence\": 0.6}],\n"
                + " \"final\": {\"epoch\": 10}}\n");
        RunStore store = new RunStore();
        RecordFiles.read(f, store);
        RunStore.RunSnapshot run = store.run("ma").orElseThrow();
        assertEquals("modular-addition p=29", run.taskLabel());
        assertEquals(2, run.checkpoints().size());
        assertEquals(29, run.modularP().orElseThrow());
        assertEquals(10, run.alerts().get(0).epoch());
    }

    @Test
    void aTmsExperimentIsItsFinalAnalysis() throws Exception {
        Path f = dir.resolve("tms.json");
        Files.writeString(f, "{\"experiment\": \"tms\", \"config\": {\"features\": 5, \"hidden\": 2},"
                + " \"final\": {\"epoch\": 5000, \"eigenvalues\": [3, 2, 1], \"heatmapArgmax\": [0, 4, 1],"
                + " \"heatmapMax\": [0.99, 0.95, 0.3]}}");
        RunStore store = new RunStore();
        RecordFiles.read(f, store);
        Checkpoint c = store.run("tms").orElseThrow().last().orElseThrow();
        assertEquals(5000, c.epoch());
        assertEquals(4, c.whole().heatmapArgmax()[1]);
    }

    @Test
    void somethingElseIsRefusedWithWhatWasExpected() throws Exception {
        Path f = dir.resolve("other.json");
        Files.writeString(f, "{\"hello\": 1}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RecordFiles.read(f, new RunStore()));
        assertTrue(e.getMessage().contains("holds no spectrum"), e.getMessage());
        Files.writeString(f, "not json");
        assertThrows(java.io.IOException.class, () -> RecordFiles.read(f, new RunStore()));
    }
}
