package io.grokwatch.detect;


import io.grokwatch.records.Evidence;
import java.util.List;

/**
 * Training-health alert {@code collapse}: a run that had learned loses it. Armed once test accuracy has reached
 * {@code collapse.armed-at} (the run generalised) or, for runs that report no test accuracy, once training
 * accuracy has; fires when that accuracy falls {@code collapse.drop} or more below its best so far on
 * {@code collapse.persistence} consecutive checkpoints. Fires once per episode; re-arms once the accuracy is
 * back within the drop of its best.
 */
public final class CollapseDetector implements Detector<CollapseDetector.State> {
    public static final String NAME = "collapse";

    /**
     * @param armedAt     {@code collapse.armed-at}, default 0.9: the accuracy that counts as learned
     * @param drop        {@code collapse.drop}, default 0.2: how far below its best the accuracy must fall (the
     *                    checkpoint-to-checkpoint wobble of a learned run is a few hundredths)
     * @param persistence {@code collapse.persistence}, default 2: on this many consecutive checkpoints
     */
    public record Config(double armedAt, double drop, int persistence) {
        public static final Config DEFAULT = new Config(0.9, 0.2, 2);

        public Config {
            if (!(armedAt > 0 && armedAt <= 1)) {
                throw new IllegalArgumentException("collapse.armed-at must be in (0, 1], got " + armedAt);
            }
            if (!(drop > 0 && drop <= 1)) {
                throw new IllegalArgumentException("collapse.drop must be in (0, 1], got " + drop);
            }
            if (persistence < 1) {
                throw new IllegalArgumentException("collapse.persistence must be >= 1, got " + persistence);
            }
        }
    }

    private final Config config;

    public CollapseDetector(Config config) {
        this.config = java.util.Objects.requireNonNull(config, "config");
    }

    @Override
    public String name() {
        return NAME;
    }

    /**
     * @param bestTest  the best held-out accuracy reported
     * @param bestTrain the best training accuracy reported
     * @param below     consecutive checkpoints well below the best
     * @param firing    whether the alert has been raised for the current fall
     */
    public record State(double bestTest, double bestTrain, int below, boolean firing) {
        static final State INITIAL = new State(0.0, 0.0, 0, false);
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
        boolean hasTest = !Double.isNaN(o.testAccuracy());
        // The held-out accuracy when the run reports one, else the training accuracy.
        double acc = hasTest ? o.testAccuracy() : o.trainAccuracy();
        if (Double.isNaN(acc)) {
            return Step.quiet(s);
        }
        double best = hasTest ? s.bestTest() : s.bestTrain();
        if (best < config.armedAt() || acc > best - config.drop()) {
            double raised = Math.max(best, acc);
            return Step.quiet(new State(hasTest ? raised : s.bestTest(), hasTest ? s.bestTrain() : raised, 0, false));
        }
        int below = s.below() + 1;
        State next = new State(s.bestTest(), s.bestTrain(), below, s.firing());
        if (below < config.persistence() || s.firing()) {
            return Step.quiet(next);
        }
        Evidence ev = Evidence.of((hasTest ? "test" : "training") + " accuracy fell well below its best after the run "
                        + "had learned").put("accuracy", acc).put("best", best).put("drop", config.drop())
                .put("armedAt", config.armedAt()).put("checkpointsBelow", below)
                .put("measure", hasTest ? "testAccuracy" : "trainAccuracy").build();
        return new Step<>(new State(s.bestTest(), s.bestTrain(), below, true), List.of(new Alert(NAME, o.epoch(),
                o.step(), Math.min(1.0, (best - acc) / (2 * config.drop()) + 0.5), ev)));
    }
}
