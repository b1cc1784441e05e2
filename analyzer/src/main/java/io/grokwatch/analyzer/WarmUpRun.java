package io.grokwatch.analyzer;

import io.grokwatch.model.ModelDescription;
import io.grokwatch.model.Parameters;
import io.grokwatch.run.CheckpointMetadata;
import io.grokwatch.run.CheckpointRecord;
import io.grokwatch.run.ProbeSource;
import io.grokwatch.run.RunDescriptor;

import java.util.Map;
import java.util.SplittableRandom;

/**
 * The synthetic run the start-up warm-ups analyse: a random modular-addition model at the demo's shape (the
 * paper's p = 29, width 512), the first run people start, so the JIT compiles the hot paths at the shapes real
 * runs use (probe grids of hundreds of inputs, width 512, layer spectra). Checkpoint {@code k} scales the
 * read-out by {@code 1 + k / 100}, so consecutive spectra differ as a training run's do.
 */
final class WarmUpRun {
    static final int P = 29;
    static final int WIDTH = 512;

    private final double[] w1;
    private final double[] w2;

    WarmUpRun() {
        SplittableRandom r = new SplittableRandom(1);
        w1 = new double[WIDTH * 2 * P];
        w2 = new double[P * WIDTH];
        for (int i = 0; i < w1.length; i++) {
            w1[i] = (r.nextDouble() - 0.5) * 0.2;
        }
        for (int i = 0; i < w2.length; i++) {
            w2[i] = (r.nextDouble() - 0.5) * 0.2;
        }
    }

    RunDescriptor descriptor(String runId) {
        return new RunDescriptor(runId, ModelDescription.modularAddition(P, WIDTH),
                ProbeSource.generator("modular-addition:p=" + P), RunDescriptor.AnalysisSettings.classMean(200), 1,
                Map.of());
    }

    CheckpointMetadata metadata(int k) {
        return CheckpointMetadata.of(k, k).withMetrics(0.5, 0.5, 0.5, 0.5);
    }

    /** Checkpoint {@code k} as the trainer publishes it (safetensors with metadata). */
    byte[] checkpoint(int k) {
        double scale = 1 + k / 100.0;
        double[] out = new double[w2.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = w2[i] * scale;
        }
        Parameters params = new Parameters().put("net.0.weight", new long[] {WIDTH, 2 * P}, w1.clone())
                .put("net.3.weight", new long[] {P, WIDTH}, out);
        return CheckpointRecord.encode(params, metadata(k));
    }
}
