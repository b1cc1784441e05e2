package io.grokwatch.trainer;

import io.grokwatch.run.CheckpointMetadata;
import io.grokwatch.safetensors.DType;
import io.grokwatch.safetensors.Safetensors;
import io.grokwatch.safetensors.SafetensorsFormatException;
import io.grokwatch.safetensors.Tensor;
import io.grokwatch.safetensors.TensorFile;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A directory where an external trainer (e.g. a PyTorch script) writes {@code step-<n>.safetensors}. Each
 * complete file is handed on once, in step order; the last published step is recorded in a small state file
 * inside the directory, so a restarted watcher neither repeats nor skips a checkpoint. A file counts as
 * complete when it parses as safetensors and its size did not change since the previous scan (a writer
 * still copying it fails one or the other).
 */
public final class CheckpointDirectory {
    private static final Pattern NAME = Pattern.compile("step-(\\d+)\\.safetensors");

    /** Receives checkpoint bytes whose metadata carries the step. */
    @FunctionalInterface
    public interface Sink {
        void publish(long step, byte[] safetensors);
    }

    private final Path dir;
    private final Path stateFile;
    private final Map<Path, Long> lastSizes = new HashMap<>();
    private long lastPublished;

    public CheckpointDirectory(Path dir, String runId) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("checkpoint directory " + dir + " does not exist");
        }
        this.dir = dir;
        this.stateFile = dir.resolve(".grokwatch-published-" + runId);
        this.lastPublished = Files.exists(stateFile)
                ? Long.parseLong(Files.readString(stateFile, StandardCharsets.UTF_8).trim()) : -1;
    }

    /** The last step handed on (-1 before the first). */
    public long lastPublished() {
        return lastPublished;
    }

    /**
     * One pass: publishes every complete checkpoint newer than the last published one, in step order, and
     * stops at the first incomplete one (a later step never overtakes an earlier one). Returns how many.
     */
    public int scan(Sink sink) throws IOException {
        Map<Long, Path> byStep = new LinkedHashMap<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "step-*.safetensors")) {
            for (Path f : files) {
                Matcher m = NAME.matcher(f.getFileName().toString());
                if (m.matches()) {
                    long step = Long.parseLong(m.group(1));
                    if (step > lastPublished) {
                        byStep.put(step, f);
                    }
                }
            }
        }
        List<Long> steps = new ArrayList<>(byStep.keySet());
        steps.sort(null);
        Map<Long, Boolean> stable = new HashMap<>();
        for (long step : steps) {
            Path f = byStep.get(step);
            long size = Files.size(f);
            Long before = lastSizes.put(f, size);
            stable.put(step, before != null && before == size);
        }
        int published = 0;
        for (long step : steps) {
            Path f = byStep.get(step);
            if (!stable.get(step)) {
                break;
            }
            byte[] bytes = Files.readAllBytes(f);
            TensorFile parsed;
            try {
                parsed = Safetensors.read(bytes);
            } catch (SafetensorsFormatException incomplete) {
                break;
            }
            sink.publish(step, withStep(parsed, bytes, step));
            lastPublished = step;
            lastSizes.remove(f);
            recordState();
            published++;
        }
        return published;
    }

    /** The file as it is when its metadata names the step, else rewritten with the step of its name. */
    public static byte[] withStep(TensorFile file, byte[] bytes, long step) {
        if (file.metadata().containsKey(CheckpointMetadata.STEP)) {
            return bytes;
        }
        TensorFile.Builder b = TensorFile.builder();
        for (Tensor t : file.tensors()) {
            b.add(t.dtype().isWritable() ? t : t.withDType(DType.F32));
        }
        b.metadata(file.metadata()).metadata(CheckpointMetadata.STEP, Long.toString(step));
        if (!file.metadata().containsKey(CheckpointMetadata.EPOCH)) {
            b.metadata(CheckpointMetadata.EPOCH, Long.toString(step));
        }
        return Safetensors.write(b.build());
    }

    private void recordState() throws IOException {
        Path tmp = dir.resolve(stateFile.getFileName() + ".tmp");
        Files.writeString(tmp, Long.toString(lastPublished), StandardCharsets.UTF_8);
        Files.move(tmp, stateFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
