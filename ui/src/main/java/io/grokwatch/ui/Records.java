package io.grokwatch.ui;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.List;
import java.util.Map;

/**
 * The records the page reads, as the analyzer and the commands write them (docs/pipeline.md): only the fields the
 * figures need; anything else in a record is ignored, and a missing field is null.
 */
public final class Records {
    /** Lenient about fields it does not know: the formats grow. */
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private Records() {
    }

    /** One analysed checkpoint: a record of the spectra topic, or a checkpoint of {@code experiment}. */
    public record Spectrum(String runId, Long step, Long epoch, Double trainLoss, Double testLoss,
                           Double trainAccuracy, Double testAccuracy, double[] eigenvalues,
                           Map<String, Map<String, Double>> overlaps, Map<String, Double> gaps, List<Cliff> cliffs,
                           Double effectiveRank, Double drift, Map<String, Kernel> layers, int[] heatmapArgmax,
                           double[] heatmapMax, Map<String, Double> timings) {
        /** The whole-model kernel's fields as a {@link Kernel}. */
        Kernel whole() {
            return new Kernel(eigenvalues, overlaps, gaps, cliffs, effectiveRank, drift, heatmapArgmax, heatmapMax);
        }
    }

    /** The spectrum of one kernel (the whole model, or a parameter group under {@code layers}). */
    public record Kernel(double[] eigenvalues, Map<String, Map<String, Double>> overlaps, Map<String, Double> gaps,
                         List<Cliff> cliffs, Double effectiveRank, Double drift, int[] heatmapArgmax,
                         double[] heatmapMax) {
    }

    /** A cliff of a spectrum: a large ratio {@code lambda_position / lambda_position+1}. */
    public record Cliff(int position, double ratio) {
    }

    /** An alert of the alerts topic. */
    public record Alert(String runId, String type, long epoch, long step, double confidence) {
    }

    /** What the page takes from a run descriptor (grokwatch.run/v1): its task and the task's parameters. */
    public record Descriptor(String runId, Map<String, String> task) {
    }
}
