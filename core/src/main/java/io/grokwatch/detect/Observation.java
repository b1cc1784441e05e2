package io.grokwatch.detect;

import io.grokwatch.features.Family;

import java.util.Map;

/**
 * What detectors see of one checkpoint: training-set metrics, the reported test metrics (only the
 * conventional {@code generalization} detector may read them), and the analysed spectrum.
 *
 * @param overlaps cliff name to family overlaps (empty when the probes have no known families)
 * @param gaps     named gap ratios, e.g. {@code endOfSecondCliff}
 */
public record Observation(long epoch, long step, double trainAccuracy, double trainLoss, double testAccuracy,
                          double[] eigenvalues, Map<String, Map<Family, Double>> overlaps, Map<String, Double> gaps) {
    public Observation {
        overlaps = Map.copyOf(overlaps);
        gaps = Map.copyOf(gaps);
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
