package io.grokwatch.detect;

import io.grokwatch.features.Family;

import java.util.Map;

/**
 * What detectors see of one checkpoint: training-set metrics, the reported test metrics (only the
 * conventional {@code generalization} detector may read them), and the analysed spectrum.
 *
 * @param overlaps cliff name to family overlaps (empty when the probes have no known families)
 * @param gaps     named gap ratios, e.g. {@code endOfSecondCliff}
 * @param heldOutConfidence {@link io.grokwatch.features.HeldOutConfidence} of the model's outputs on the probes,
 *                          NaN when the run declares no train split
 * @param kernelConfidence  {@link io.grokwatch.features.KernelRegressionConfidence} of the whole-model eNTK,
 *                          NaN when the run declares no train split
 * @param labelAlignment    {@link io.grokwatch.features.KernelTargetAlignment} of the whole-model eNTK on the
 *                          training probes, NaN when the run declares no training labels
 */
public record Observation(long epoch, long step, double trainAccuracy, double trainLoss, double testAccuracy,
                          double[] eigenvalues, Map<String, Map<Family, Double>> overlaps, Map<String, Double> gaps,
                          double heldOutConfidence, double kernelConfidence, double labelAlignment) {
    public Observation {
        overlaps = Map.copyOf(overlaps);
        gaps = Map.copyOf(gaps);
    }

    /** An observation of a run without a declared train split (no held-out confidence, no label alignment). */
    public Observation(long epoch, long step, double trainAccuracy, double trainLoss, double testAccuracy,
                       double[] eigenvalues, Map<String, Map<Family, Double>> overlaps, Map<String, Double> gaps) {
        this(epoch, step, trainAccuracy, trainLoss, testAccuracy, eigenvalues, overlaps, gaps, Double.NaN, Double.NaN,
                Double.NaN);
    }

    /** This observation with the split-based signals. */
    public Observation withSplitSignals(double confidence, double kernel, double alignment) {
        return new Observation(epoch, step, trainAccuracy, trainLoss, testAccuracy, eigenvalues, overlaps, gaps,
                confidence, kernel, alignment);
    }

    /** Mean of the second cliff's sum and diff overlaps, or NaN when unknown. */
    public double secondCliffSumDiff() {
        Map<Family, Double> c = overlaps.get("secondCliff");
        if (c == null || !c.containsKey(Family.SUM) || !c.containsKey(Family.DIFF)) {
            return Double.NaN;
        }
        return (c.get(Family.SUM) + c.get(Family.DIFF)) / 2;
    }
}
