package io.grokwatch.analyzer;

import io.grokwatch.kafka.Topics;
import io.grokwatch.run.CheckpointRecord;
import io.grokwatch.run.RunDescriptor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The warm-up's names and local clean-up, without a broker (PipelineWarmUpIT runs it against one). */
class PipelineWarmUpTest {
    @TempDir
    Path dir;

    @Test
    void everyNameStartsWithTheApplicationIdAndIsFreshEachTime() {
        String id = PipelineWarmUp.newId("grokwatch-analyzer");
        assertTrue(id.matches("grokwatch-analyzer-warm-up-[0-9a-f]{8}"), id);
        assertNotEquals(id, PipelineWarmUp.newId("grokwatch-analyzer"), "two analyzers starting at once collide");
        Topics t = PipelineWarmUp.topics(id);
        for (String name : t.toMap().values()) {
            assertTrue(name.startsWith(id + "."), name);
        }
        // Not one of the real topics under another prefix.
        assertFalse(t.toMap().values().stream().anyMatch(Topics.defaults().toMap().values()::contains));
    }

    @Test
    void staleWarmUpStateIsRemovedAndNothingElse() throws Exception {
        Path stale = dir.resolve("app-warm-up-0123abcd");
        Files.createDirectories(stale.resolve("app-warm-up-0123abcd/0_0/rocksdb"));
        Files.writeString(stale.resolve("app-warm-up-0123abcd/0_0/rocksdb/LOG"), "x");
        Path real = dir.resolve("app");
        Files.createDirectories(real.resolve("0_0"));
        Path otherApp = dir.resolve("other-warm-up-0123abcd");
        Files.createDirectories(otherApp);

        PipelineWarmUp.removeStaleState(dir, "app");

        assertFalse(Files.exists(stale));
        assertTrue(Files.isDirectory(real.resolve("0_0")), "the application's own state stays");
        assertTrue(Files.isDirectory(otherApp), "another application's warm-up is not ours to remove");
        PipelineWarmUp.removeStaleState(dir.resolve("missing"), "app"); // no state directory yet: nothing to do
    }

    @Test
    void theSyntheticRunHasTheDemoShapeAndDistinctCheckpoints() {
        WarmUpRun run = new WarmUpRun();
        RunDescriptor d = run.descriptor("w");
        assertEquals("w", d.runId());
        assertEquals("modular-addition:p=29", d.probe().name());
        CheckpointRecord first = CheckpointRecord.decode(run.checkpoint(0));
        CheckpointRecord second = CheckpointRecord.decode(run.checkpoint(1));
        assertEquals(0, first.metadata().step());
        assertEquals(1, second.metadata().step());
        assertFalse(java.util.Arrays.equals(run.checkpoint(0), run.checkpoint(1)));
    }
}
