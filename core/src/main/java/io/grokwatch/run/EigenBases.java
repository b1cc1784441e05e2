package io.grokwatch.run;

import io.grokwatch.linalg.Matrix;
import io.grokwatch.safetensors.DType;
import io.grokwatch.safetensors.Safetensors;
import io.grokwatch.safetensors.Tensor;
import io.grokwatch.safetensors.TensorFile;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The eigenbases a run's next checkpoint starts from, as a safetensors file (one F32 tensor per kernel, named
 * like the spectra output: {@code all}, then each parameter group). F32 is ample for a warm start and for
 * drift, and halves what the analyzer's state store holds. The live analyzer and replay both pass every basis
 * through this encoding, so both start each solve from the same numbers.
 */
public final class EigenBases {
    private EigenBases() {
    }

    public static byte[] encode(Map<String, Matrix> bases) {
        TensorFile.Builder b = TensorFile.builder();
        bases.forEach((name, m) -> b.add(new Tensor(name, DType.F32, new long[] {m.rows(), m.cols()}, m.data())));
        b.metadata("format", "grokwatch.eigenbases/v1");
        return Safetensors.write(b.build());
    }

    public static Map<String, Matrix> decode(byte[] bytes) {
        Map<String, Matrix> out = new LinkedHashMap<>();
        if (bytes == null || bytes.length == 0) {
            return out;
        }
        for (Tensor t : Safetensors.read(bytes).tensors()) {
            out.put(t.name(), new Matrix((int) t.shape()[0], (int) t.shape()[1], t.values()));
        }
        return out;
    }

    /** The bases as the next solve will see them after a round trip through {@link #encode}. */
    public static Map<String, Matrix> rounded(Map<String, Matrix> bases) {
        return decode(encode(bases));
    }
}
