package io.grokwatch.detect;

import io.grokwatch.records.Evidence;
import java.util.List;

/**
 * The conventional alert, from reported test accuracy: test accuracy jumps after train accuracy has
 * saturated. It tells the user what the labels say, so they can compare it with the spectral onset and see
 * the lead time. Fires once per run; silent when no test accuracy is reported.
 */
public final class GeneralizationDetector implements Detector<GeneralizationDetector.State> {
    public static final String NAME = "generalization";

    /**
     * @param trainAccuracy {@code generalization.train-accuracy}, default 0.99: the training set counts as
     *                      memorised from here on
     * @param testAccuracy  {@code generalization.test-accuracy}, default 0.5: half the held-out pairs right,
     *                      far above chance (1/p), the midpoint of the paper's transition
     */
    public record Config(double trainAccuracy, double testAccuracy) {
        public static final Config DEFAULT = new Config(0.99, 0.5);

        public Config {
            if (!(trainAccuracy > 0 && trainAccuracy <= 1) || !(testAccuracy > 0 && testAccuracy <= 1)) {
                throw new IllegalArgumentException("generalization.train-accuracy and generalization.test-accuracy "
                        + "must be in (0, 1], got " + trainAccuracy + " and " + testAccuracy);
            }
        }
    }

    private final Config config;

    public GeneralizationDetector(Config config) {
        this.config = config;
    }

    @Override
    public String name() {
        return NAME;
    }

    /**
     * @param fired            whether the alert has been raised (once per run)
     * @param memorisedAtEpoch the first epoch with training accuracy at the threshold, null before
     */
    public record State(boolean fired, Long memorisedAtEpoch) implements DetectorStates.FiresOnce {
        static final State INITIAL = new State(false, null);
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
        Long memorised = s.memorisedAtEpoch() == null && o.trainAccuracy() >= config.trainAccuracy()
                ? Long.valueOf(o.epoch()) : s.memorisedAtEpoch();
        if (s.fired() || memorised == null || Double.isNaN(o.testAccuracy())
                || o.testAccuracy() < config.testAccuracy()) {
            return Step.quiet(new State(s.fired(), memorised));
        }
        Evidence ev = Evidence.of("test accuracy jumped after the training set was memorised")
                .put("testAccuracy", o.testAccuracy()).put("threshold", config.testAccuracy())
                .put("trainAccuracy", o.trainAccuracy()).put("memorisedAtEpoch", memorised.longValue()).build();
        return new Step<>(new State(true, memorised), List.of(new Alert(NAME, o.epoch(), o.step(), 1.0, ev)));
    }
}
