package io.grokwatch.detect;

import io.grokwatch.records.Evidence;
import io.grokwatch.features.Family;

import java.util.List;
import java.util.Map;

/**
 * Label-free grokking onset: the eigenspace of the second cliff turns to the sum/diff Fourier modes (the
 * features of the generalising solution) after the training set has been memorised. Eigenvalue growth,
 * drift and effective rank behave the same when a model only memorises, so they are reported as context,
 * never used to fire. Reads training metrics and the spectrum only, never test metrics. Fires once per run.
 */
public final class GrokkingOnsetDetector implements Detector<GrokkingOnsetDetector.State> {
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

    /**
     * @param fired           whether the alert has been raised (once per run)
     * @param minOverlap      the lowest second-cliff sum/diff overlap seen, null before any
     * @param previousOverlap the overlap at the previous observation, null before any
     * @param previousEpoch   its epoch, null before any
     */
    public record State(boolean fired, Double minOverlap, Double previousOverlap, Long previousEpoch)
            implements DetectorStates.FiresOnce {
        static final State INITIAL = new State(false, null, null, null);
    }

    @Override
    public Class<State> stateType() {
        return State.class;
    }

    @Override
    public State initialState() {
        return State.INITIAL;
    }

    @Override
    public Step<State> observe(State s, Observation o) {
        double m = o.secondCliffSumDiff();
        if (Double.isNaN(m)) {
            return Step.quiet(s);
        }
        double min = s.minOverlap() == null ? m : Math.min(m, s.minOverlap());
        Double previous = s.previousOverlap();
        long previousEpoch = s.previousEpoch() == null ? -1 : s.previousEpoch();
        State next = new State(s.fired(), min, m, o.epoch());
        if (s.fired() || m < config.overlapThreshold() || m - min < config.minRise()
                || !(o.trainAccuracy() >= config.trainAccuracy())) {
            return Step.quiet(next);
        }
        Map<Family, Double> c = o.overlaps().get("secondCliff");
        Evidence.Builder ev = Evidence.of("second-cliff eigenspace aligns with the sum/diff Fourier modes")
                .put("secondCliffSum", c.get(Family.SUM)).put("secondCliffDiff", c.get(Family.DIFF))
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
        return new Step<>(new State(true, min, m, o.epoch()),
                List.of(new Alert(NAME, o.epoch(), o.step(), confidence, ev.build())));
    }
}
