package io.grokwatch.features;

import io.grokwatch.linalg.Matrix;

/**
 * How confident a classifier is on its held-out probes relative to its training probes, with no label: the mean
 * top-two margin (largest output minus the second largest) over the held-out rows divided by the same mean over the
 * training rows. A model that memorises is sure of its training samples and unsure elsewhere, so the ratio falls
 * while it memorises; a model that has found the rule treats unseen inputs like seen ones, so the ratio climbs back
 * toward 1. docs/science.md measures it against kernel signals on grokking runs and memorisation-only controls.
 */
public final class HeldOutConfidence {
    private HeldOutConfidence() {
    }

    /**
     * @param outputs one row of class scores per probe, {@code >= 2} columns
     * @param train   which rows are training probes; both sets must be non-empty
     * @return held-out mean margin / training mean margin; NaN when the training margin is 0
     */
    public static double ratio(Matrix outputs, boolean[] train) {
        int n = outputs.rows();
        if (train.length != n) {
            throw new IllegalArgumentException("need one train flag per output row: " + n + " rows, " + train.length
                    + " flags");
        }
        if (outputs.cols() < 2) {
            throw new IllegalArgumentException("margins need at least 2 outputs per probe, got " + outputs.cols());
        }
        double trainSum = 0;
        double heldSum = 0;
        int trainCount = 0;
        for (int i = 0; i < n; i++) {
            double m = margin(outputs, i);
            if (!Double.isFinite(m)) {
                return Double.NaN;
            }
            if (train[i]) {
                trainSum += m;
                trainCount++;
            } else {
                heldSum += m;
            }
        }
        if (trainCount == 0 || trainCount == n) {
            throw new IllegalArgumentException("need both training and held-out probes, got " + trainCount
                    + " training of " + n);
        }
        double trainMean = trainSum / trainCount;
        return trainMean > 0 ? (heldSum / (n - trainCount)) / trainMean : Double.NaN;
    }

    /** Largest minus second-largest entry of row {@code r}. */
    static double margin(Matrix outputs, int r) {
        double first = Double.NEGATIVE_INFINITY;
        double second = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < outputs.cols(); c++) {
            double v = outputs.get(r, c);
            if (v > first) {
                second = first;
                first = v;
            } else if (v > second) {
                second = v;
            }
        }
        return first - second;
    }
}
