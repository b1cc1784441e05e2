package io.grokwatch.detect;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grokwatch.features.Family;

import java.util.List;
import java.util.Map;

/**
 * Label-free grokking onset: the eigenspace of the second cliff turns to the sum/diff Fourier modes (the
 * features of the generalising solution) after the training set has been memorised. Eigenvalue growth,
 * drift and effective rank behave the same when a model only memorises, so they are reported as context,
 * never used to fire. Reads training metrics and the spectrum only, never test metrics. Fires once per run.
 */
public final class GrokkingOnsetDetector implements Detector {
    public static final String NAME = "grokking-onset";

    /**
     * @param overlapThreshold {@code onset.overlap-threshold}, default 0.5: mean of the second cliff's sum and
     *                         diff overlaps. Memorisation-only controls stay below 0.22 (docs/science.md: five
     *                         controls, alpha 0.2-0.3); grokking runs cross 0.5 while test accuracy is still
     *                         near zero and go on to 0.85-0.95.
     * @param minRise          {@code onset.min-rise}, default 0.15: the overlap must have risen at least this much
     *                         above its lowest value in the run, so a run that starts aligned is not "onset".
     * @param trainAccuracy    {@code onset.train-accuracy}, default 0.95: grokking is generalisation after
     *                         memorisation; before that the alignment is ordinary learning.
     */
    public record Config(double overlapThreshold, double minRise, double trainAccuracy) {
        public static final Config DEFAULT = new Config(0.5, 0.15, 0.95);

        public Config {
            if (!(overlapThreshold > 0 && overlapThreshold < 1)) {
                throw new IllegalArgumentException("onset.overlap-threshold must be in (0, 1), got " + overlapThreshold);
            }
            if (!(minRise >= 0 && minRise < 1)) {
                throw new IllegalArgumentException("onset.min-rise must be in [0, 1), got " + minRise);
            }
            if (!(trainAccuracy >= 0 && trainAccuracy <= 1)) {
                throw new IllegalArgumentException("onset.train-accuracy must be in [0, 1], got " + trainAccuracy);
            }
        }
    }

    private final Config config;

    public GrokkingOnsetDetector(Config config) {
        this.config = config;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ObjectNode initialState() {
        ObjectNode s = JsonNodeFactory.instance.objectNode();
        s.put("fired", false);
        s.putNull("minOverlap");
        s.putNull("previousOverlap");
        s.putNull("previousEpoch");
        return s;
    }

    @Override
    public Step observe(ObjectNode state, Observation o) {
        ObjectNode s = state.deepCopy();
        double m = o.secondCliffSumDiff();
        if (Double.isNaN(m)) {
            return new Step(s, List.of());
        }
        double min = s.get("minOverlap").isNull() ? m : Math.min(m, s.get("minOverlap").asDouble());
        Double previous = s.get("previousOverlap").isNull() ? null : s.get("previousOverlap").asDouble();
        long previousEpoch = s.get("previousEpoch").isNull() ? -1 : s.get("previousEpoch").asLong();
        s.put("minOverlap", min);
        s.put("previousOverlap", m);
        s.put("previousEpoch", o.epoch());
        if (s.get("fired").asBoolean() || m < config.overlapThreshold() || m - min < config.minRise()
                || !(o.trainAccuracy() >= config.trainAccuracy())) {
            return new Step(s, List.of());
        }
        s.put("fired", true);
        ObjectNode ev = JsonNodeFactory.instance.objectNode();
        ev.put("signal", "second-cliff eigenspace aligns with the sum/diff Fourier modes");
        Map<Family, Double> c = o.overlaps().get("secondCliff");
        ev.put("secondCliffSum", c.get(Family.SUM)).put("secondCliffDiff", c.get(Family.DIFF))
                .put("secondCliffSumDiff", m).put("threshold", config.overlapThreshold())
                .put("lowestSoFar", min).put("trainAccuracy", o.trainAccuracy());
        if (previous != null && o.epoch() > previousEpoch) {
            ev.put("risePerEpoch", (m - previous) / (o.epoch() - previousEpoch));
        }
        Double gap = o.gaps().get("endOfSecondCliff");
        if (gap != null) {
            ev.put("endOfSecondCliffGap", gap);
        }
        if (o.eigenvalues().length > 0) {
            ev.put("topEigenvalue", o.eigenvalues()[0]);
        }
        // Confidence grows with the margin above the threshold: 0.5 at the threshold, 1 at threshold + 0.2.
        double confidence = Math.min(1.0, 0.5 + 2.5 * (m - config.overlapThreshold()));
        return new Step(s, List.of(new Alert(NAME, o.epoch(), o.step(), confidence, ev)));
    }
}
