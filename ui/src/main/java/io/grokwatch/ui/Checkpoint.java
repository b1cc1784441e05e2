package io.grokwatch.ui;

import java.util.Map;

/**
 * One analysed checkpoint as the page keeps it: the training metrics, and per kernel only what the figures draw
 * (the whole model's spectrum truncated to {@link RunStore#SPECTRUM_VALUES} values, the top few eigenvalues of each
 * layer). Metrics a checkpoint did not report are NaN.
 *
 * @param kernels    {@code all} (the whole model) first, then the parameter groups, in the record's order
 * @param lagSeconds checkpoint-to-spectrum latency ({@code timings.producedToResultSeconds}), NaN if unknown
 */
public record Checkpoint(long step, long epoch, double trainAccuracy, double testAccuracy, double trainLoss,
                         double testLoss, double lagSeconds, Map<String, KernelPoint> kernels) {
    /** The whole-model kernel's name, as in the analyzer's bases and metrics. */
    public static final String ALL = "all";

    public KernelPoint whole() {
        return kernels.get(ALL);
    }

    /**
     * One kernel at one checkpoint.
     *
     * @param eigenvalues descending; the whole model's up to {@link RunStore#SPECTRUM_VALUES}, a layer's up to
     *                    {@link RunStore#TOP_EIGENVALUES}
     * @param overlaps    cliff -> feature family -> overlap in [0, 1] (modular addition)
     * @param gaps        gap name -> ratio
     * @param cliffs      positions i of the cliffs {@code lambda_i / lambda_i+1} the analysis found
     * @param drift       eigenspace drift from the previous checkpoint, NaN on a run's first
     * @param heatmapArgmax per eigenvector, the feature it aligns with best (TMS), or null
     * @param heatmapMax    per eigenvector, that alignment, or null
     */
    public record KernelPoint(float[] eigenvalues, Map<String, Map<String, Double>> overlaps,
                              Map<String, Double> gaps, int[] cliffs, double effectiveRank, double drift,
                              int[] heatmapArgmax, float[] heatmapMax) {
    }
}
