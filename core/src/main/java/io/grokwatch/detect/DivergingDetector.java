package io.grokwatch.detect;


import io.grokwatch.records.Evidence;
import java.util.List;

/**
 * Training-health alert {@code diverging}: the training loss has climbed back well above the best it reached,
 * and stays there. Healthy grokking runs raise their training loss by an order of magnitude at tiny absolute
 * values while weight decay reshapes the weights (docs/operations.md has the figures), so the rise must be large
 * on both scales: many times the running minimum, and a good share of the loss the run started from. A non-finite loss diverges at once. Fires once per
 * episode; re-arms when the loss is back under the threshold.
 */
public final class DivergingDetector implements Detector<DivergingDetector.State> {
    public static final String NAME = "diverging";

    /**
     * @param ratio       {@code diverging.ratio}, default 10: the loss is at least this many times its running
     *                    minimum (an order of magnitude, beyond the rises of a healthy grokking run)
     * @param ofInitial   {@code diverging.of-initial}, default 0.5: and at least this share of the first
     *                    checkpoint's loss (half the way back to an untrained model)
     * @param persistence {@code diverging.persistence}, default 2: on this many consecutive checkpoints (one
     *                    noisy checkpoint is not a divergence)
     */
    public record Config(double ratio, double ofInitial, int persistence) {
        public static final Config DEFAULT = new Config(10, 0.5, 2);

        public Config {
            if (!(ratio > 1) || Double.isInfinite(ratio)) {
                throw new IllegalArgumentException("diverging.ratio must be a finite number > 1, got " + ratio);
            }
            if (!(ofInitial >= 0) || Double.isInfinite(ofInitial)) {
                throw new IllegalArgumentException("diverging.of-initial must be a finite number >= 0, got " + ofInitial);
            }
            if (persistence < 1) {
                throw new IllegalArgumentException("diverging.persistence must be >= 1, got " + persistence);
            }
        }
    }

    private final Config config;

    public DivergingDetector(Config config) {
        this.config = java.util.Objects.requireNonNull(config, "config");
    }

    @Override
    public String name() {
        return NAME;
    }

    /**
     * @param initialLoss the first reported training loss, null before any
     * @param minLoss     the lowest reported training loss, null before any
     * @param above       consecutive checkpoints at or above the threshold
     * @param firing      whether the alert has been raised for the current excursion
     */
    public record State(Double initialLoss, Double minLoss, int above, boolean firing) {
        static final State INITIAL = new State(null, null, 0, false);
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
        double loss = o.trainLoss();
        if (Double.isNaN(loss) && s.initialLoss() != null) {
            // An unreported loss says nothing; a NaN after reported ones is the run blowing up.
            return nonFinite(s, o, loss);
        }
        if (Double.isNaN(loss)) {
            return Step.quiet(s);
        }
        if (Double.isInfinite(loss)) {
            return nonFinite(s, o, loss);
        }
        if (s.initialLoss() == null) {
            return Step.quiet(new State(loss, loss, 0, s.firing()));
        }
        double min = s.minLoss();
        double initial = s.initialLoss();
        double threshold = Math.max(config.ratio() * min, config.ofInitial() * initial);
        boolean high = loss >= threshold && loss > min;
        if (!high) {
            return Step.quiet(new State(initial, Math.min(min, loss), 0, false));
        }
        int above = s.above() + 1;
        if (above < config.persistence() || s.firing()) {
            return Step.quiet(new State(initial, min, above, s.firing()));
        }
        Evidence ev = Evidence.of("the training loss rose far above its best and stayed there")
                .put("trainLoss", loss).put("minLoss", min).put("initialLoss", initial).put("threshold", threshold)
                .put("ratio", config.ratio()).put("ofInitial", config.ofInitial()).put("checkpointsAbove", above)
                .build();
        // 0.5 at the ratio above the best, 1 at its square (two orders of magnitude with the default).
        double confidence = Math.min(1.0, Math.max(0.5, Math.log(loss / min) / (2 * Math.log(config.ratio()))));
        return new Step<>(new State(initial, min, above, true),
                List.of(new Alert(NAME, o.epoch(), o.step(), confidence, ev)));
    }

    private Step<State> nonFinite(State s, Observation o, double loss) {
        if (s.firing()) {
            return Step.quiet(s);
        }
        Evidence ev = Evidence.of("the training loss is not a finite number").put("trainLoss", String.valueOf(loss))
                .build();
        return new Step<>(new State(s.initialLoss(), s.minLoss(), s.above(), true),
                List.of(new Alert(NAME, o.epoch(), o.step(), 1.0, ev)));
    }
}
