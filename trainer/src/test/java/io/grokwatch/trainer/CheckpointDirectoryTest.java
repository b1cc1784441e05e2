package io.grokwatch.trainer;

import io.grokwatch.run.CheckpointRecord;
import io.grokwatch.safetensors.DType;
import io.grokwatch.safetensors.Safetensors;
import io.grokwatch.safetensors.Tensor;
import io.grokwatch.safetensors.TensorFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Following a directory of step-N.safetensors files: once each, in step order, across restarts. */
class CheckpointDirectoryTest {
    @TempDir
    Path dir;

    private static byte[] file(double value, boolean withStep, long step) {
        TensorFile.Builder b = TensorFile.builder().add(Tensor.f32("W", new long[] {2}, new double[] {value, -value}));
        if (withStep) {
            b.metadata("step", Long.toString(step)).metadata("epoch", "1");
        }
        return Safetensors.write(b.build());
    }

    @Test
    void publishesCompleteFilesOnceInStepOrderAndResumesAfterARestart() throws Exception {
        List<Long> seen = new ArrayList<>();
        CheckpointDirectory.Sink sink = (step, bytes) -> {
            seen.add(step);
            assertEquals(step, CheckpointRecord.decode(bytes).metadata().step());
        };
        Files.write(dir.resolve("step-20.safetensors"), file(2, false, 20));
        Files.write(dir.resolve("step-10.safetensors"), file(1, true, 10));
        // Still being written: half a file.
        byte[] partial = file(3, false, 30);
        Files.write(dir.resolve("step-30.safetensors"), Arrays.copyOf(partial, partial.length / 2));
        Files.writeString(dir.resolve("notes.txt"), "ignored");

        CheckpointDirectory watcher = new CheckpointDirectory(dir, "run-1");
        assertEquals(0, watcher.scan(sink), "the first scan only records sizes");
        assertEquals(2, watcher.scan(sink));
        assertEquals(List.of(10L, 20L), seen);

        Files.write(dir.resolve("step-30.safetensors"), partial);
        CheckpointDirectory restarted = new CheckpointDirectory(dir, "run-1");
        assertEquals(20, restarted.lastPublished());
        restarted.scan(sink);
        restarted.scan(sink);
        assertEquals(List.of(10L, 20L, 30L), seen, "after the restart only the new file");
        assertEquals(0, restarted.scan(sink));
    }

    @Test
    void narrowDtypesAreWidenedWhenTheStepMustBeAdded() {
        TensorFile bf16 = new TensorFile(List.of(new Tensor("W", DType.BF16, new long[] {1}, new double[] {1.5})),
                java.util.Map.of());
        byte[] out = CheckpointDirectory.withStep(bf16, new byte[0], 7);
        CheckpointRecord r = CheckpointRecord.decode(out);
        assertEquals(7, r.metadata().step());
        assertEquals(1.5, r.weights().get("W").values()[0]);
    }
}
