package io.grokwatch.run;

import io.grokwatch.checkpoint.Checkpoints;
import io.grokwatch.model.Parameters;
import io.grokwatch.safetensors.Safetensors;
import io.grokwatch.safetensors.TensorFile;

/**
 * A checkpoint as it travels: safetensors bytes whose {@code __metadata__} carries step, epoch and any
 * metrics ({@link CheckpointMetadata}). Any tool that writes safetensors (PyTorch's {@code save_file}) can
 * produce one.
 */
public record CheckpointRecord(TensorFile weights, CheckpointMetadata metadata) {

    public static byte[] encode(Parameters params, CheckpointMetadata metadata) {
        return Safetensors.write(Checkpoints.toTensorFile(params, metadata.toMap()));
    }

    /**
     * Parses and checks the bytes: malformed safetensors raise
     * {@link io.grokwatch.safetensors.SafetensorsFormatException}, bad metadata {@link RunFormatException}.
     */
    public static CheckpointRecord decode(byte[] bytes) {
        TensorFile f = Safetensors.read(bytes);
        return new CheckpointRecord(f, CheckpointMetadata.fromMap(f.metadata()));
    }
}
